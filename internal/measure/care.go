package measure

import (
	"fmt"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// careRuleKinds are the care-event kinds a care rule can count: the steps
// of fracture-liaison care. Residence is a span the FLS-DB strata read, not
// a step of care, so no rule counts it.
var careRuleKinds = []clinical.CareKind{
	clinical.CareFLSAssessment, clinical.CareFractureRisk, clinical.CareFallsAssessment, clinical.CareFallsReferral,
	clinical.CareAOMRecommended, clinical.CareAOMDeclined, clinical.CareAOMContraindicated,
	clinical.CareStrengthBalanceReferral, clinical.CareStrengthBalanceStart, clinical.CareMonitoringContact,
}

// careRule compiles a care rule's events and onTreatment.
func (c *compiler) careRule(field string, ry ruleYAML, r *rule) error {
	if len(ry.Events) == 0 {
		return c.errf(field+".events", "required for kind care: the care-event kinds that count (e.g. [fls_assessment])")
	}
	for _, e := range ry.Events {
		k := clinical.CareKind(e)
		switch {
		case k == clinical.CareResidence:
			return c.errf(field+".events", "%q is where the patient lives over a span, not a step of care a rule counts", e)
		case !slices.Contains(careRuleKinds, k):
			return c.errf(field+".events", "%q is not a care-event kind (want %s)", e, careKindList())
		case slices.Contains(r.care, k):
			return c.errf(field+".events", "%q is listed twice", e)
		}
		r.care = append(r.care, k)
	}
	if ry.OnTreatment != nil {
		for _, k := range r.care {
			if k != clinical.CareMonitoringContact {
				return c.errf(field+".onTreatment", "applies to monitoring_contact events only, not %s", k)
			}
		}
		r.onTreatment = clinical.NullBool{Value: *ry.OnTreatment, Valid: true}
	}
	if ry.ValueSet != "" {
		return c.errf(field+".valueSet", "a care rule counts care events by kind (events), not codes")
	}
	if r.label == "" {
		return c.errf(field+".label", "required for kind care (names the evidence, e.g. \"FLS assessment\")")
	}
	return nil
}

func careKindList() string {
	s := make([]string, len(careRuleKinds))
	for i, k := range careRuleKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// careMatch adds the care events that satisfy rule r in window w to mt (as
// records: their index in p.CareEvents). It allocates nothing, and a patient
// without care events costs an empty loop.
func careMatch(p *clinical.PatientData, r *rule, w clinical.Period, mt *match) {
	for i := range p.CareEvents {
		e := &p.CareEvents[i]
		if !w.Contains(e.Date) || !slices.Contains(r.care, e.Kind) || r.onTreatment.Valid && e.OnTreatment != r.onTreatment {
			continue
		}
		mt.add(-1, int32(i), e.Date)
	}
}

// careText says which care event satisfied r: "FLS assessment on
// 2025-03-01 (care event V12, by Fracture Liaison Service), day 12 after the
// fracture of ...", naming the event's kind when the rule counts several.
func (m *Measure) careText(p *clinical.PatientData, r *rule, c *caseCtx, mt *match) string {
	e := &p.CareEvents[mt.rec]
	what := r.label
	if len(r.care) > 1 {
		what += ": " + strings.ReplaceAll(string(e.Kind), "_", " ")
	}
	rec := "care event " + e.SourceID
	if e.Service != "" {
		rec += ", by " + e.Service
	}
	text := fmt.Sprintf("%s on %s (%s), %s", what, e.Date, rec, m.relative(e.Date, c.index))
	if e.OnTreatment.Valid {
		text += map[bool]string{true: ", on treatment", false: ", not on treatment"}[e.OnTreatment.Value]
	}
	if mt.n > 1 {
		text += fmt.Sprintf(" (and %d more)", mt.n-1)
	}
	return text
}
