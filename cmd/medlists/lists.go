package main

// A drug of a list: the products of its ingredients, less the ones a rule
// leaves out. Ingredient RXCUIs are RxNorm IN concepts; which ingredients and
// which exclusions each list takes is argued in the list file's header.
type drug struct {
	label string
	// ingredients: a product reached by any of them is this drug's; their
	// IN and PIN codes and names are listed too.
	ingredients []string
	// via and nameHas describe a combination product whose own ingredient
	// record may be missing from the source: a product reached by via whose
	// RxNorm name contains nameHas. Only its products and brands are listed.
	via     []string
	nameHas string
	// excludeWith leaves out products that also contain one of these INs.
	excludeWith []rule
	// excludeStrengths leaves out products with a component of this drug's
	// ingredients at one of these strengths.
	excludeStrengths []rule
}

// rule is one exclusion: an IN RXCUI or a strength, and why.
type rule struct{ key, reason string }

// list is one code-list file under measures/valuesets.
type list struct {
	file  string
	drugs []drug
}

// Reasons, shared by both lists.
var (
	// Denosumab 120 mg/1.7 mL (Xgeva and its biosimilars) treats bone
	// metastases; the osteoporosis dose is 60 mg/mL (Prolia and its
	// biosimilars).
	oncologyDenosumab = []rule{{"70 MG/ML", "denosumab 120 mg/1.7 mL (70 MG/ML: Xgeva and biosimilars), oncology dose"}}
	// Teriparatide 0.3 MG/ML is Yorvipath (palopegteriparatide, ATC
	// H05AA05), for hypoparathyroidism; the osteoporosis pen is 0.02 MG/ACTUAT.
	notOsteoporosisTeriparatide = []rule{{"0.3 MG/ML", "teriparatide 0.3 MG/ML (Yorvipath, palopegteriparatide for hypoparathyroidism)"}}
	// The alendronate-cholecalciferol tablets (Fosamax Plus D) as reached
	// through cholecalciferol: RxNorm names every alendronate product with
	// its precise ingredient, alendronic acid.
	alendronateCholecalciferol = drug{label: "alendronate-cholecalciferol", via: []string{"2418"}, nameHas: "alendronic acid"}
	alendronate                = drug{label: "alendronate", ingredients: []string{"46041"}}
	ibandronate                = drug{label: "ibandronate", ingredients: []string{"115264"}}
	risedronate                = drug{label: "risedronate", ingredients: []string{"73056"}}
	denosumab                  = drug{label: "denosumab", ingredients: []string{"993449"}, excludeStrengths: oncologyDenosumab}
	raloxifene                 = drug{label: "raloxifene", ingredients: []string{"72143"}}
	teriparatide               = drug{label: "teriparatide", ingredients: []string{"32915"}, excludeStrengths: notOsteoporosisTeriparatide}
)

// notEstrogenTherapy leaves out estrogen products that ATC does not class as
// estrogens (G03C) or estrogen-progestogen hormone therapy (G03F).
var notEstrogenTherapy = []rule{
	{"22968", "with dienogest (Natazia: a hormonal contraceptive, ATC G03AB08)"},
	{"2049846", "with elagolix (fibroid treatment, ATC H01CC53)"},
	{"2472778", "with relugolix (fibroid and endometriosis treatment, ATC H01CC54)"},
	{"6904", "with methyltestosterone (androgen-estrogen combination, ATC G03EA01)"},
}

// lists are the generated medication lists.
var lists = []list{
	{file: "osteoporosis-meds.txt", drugs: []drug{
		alendronateCholecalciferol,
		alendronate,
		ibandronate,
		risedronate,
		{label: "zoledronic acid", ingredients: []string{"77655"}, excludeStrengths: []rule{
			{"0.8 MG/ML", "zoledronic acid 4 mg/5 mL (0.8 MG/ML: Zometa and generics), oncology dose"},
			{"0.04 MG/ML", "zoledronic acid 4 mg/100 mL (0.04 MG/ML), oncology dose"},
			{"4 MG", "zoledronic acid 4 mg vial, oncology dose"},
		}},
		{label: "abaloparatide", ingredients: []string{"1921069"}},
		denosumab,
		raloxifene,
		{label: "romosozumab", ingredients: []string{"2123126"}},
		teriparatide,
	}},
	{file: "osteoporosis-meds-pqrs.txt", drugs: []drug{
		alendronateCholecalciferol,
		alendronate,
		ibandronate,
		risedronate,
		{label: "calcitonin", ingredients: []string{"36118"}},
		{label: "estradiol", ingredients: []string{"4083"}, excludeWith: notEstrogenTherapy},
		{label: "conjugated estrogens", ingredients: []string{"4099"}, excludeWith: notEstrogenTherapy},
		{label: "esterified estrogens", ingredients: []string{"214549"}, excludeWith: notEstrogenTherapy},
		{label: "estropipate", ingredients: []string{"33747"}, excludeWith: notEstrogenTherapy},
		teriparatide,
		raloxifene,
		denosumab,
	}},
}
