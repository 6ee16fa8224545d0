package fhir

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"
)

// index holds what the first pass learns about the resources other
// resources point at, so the second pass can map each resource on its own
// while streaming. It keeps small facts (a TIN, an NPI, a few codes), never
// whole resources, so memory grows with the number of patients and
// encounters, not with the size of the export.
type index struct {
	alias      map[string]string   // Bundle fullUrl (urn:uuid:…, absolute URL) -> "Type/id"
	idents     map[string]string   // "Type|system|value" -> "Type/id", for conditional and logical references
	anyIdent   map[string]string   // "system|value" -> "Type/id" ("" when several resources share it)
	orgTIN     map[string]string   // Organization key -> TIN
	npi        map[string]string   // Practitioner key -> NPI
	roles      map[string]role     // PractitionerRole key -> practitioner and organization
	pos        map[string]string   // Location key -> CMS place of service
	meds       map[string]*concept // Medication key -> its code (codings and text)
	patients   map[string]*patientInfo
	encounters map[string]*encounterInfo
	conditions map[string][]coding
	refuted    map[string]bool // Conditions that are not diagnoses (refuted, entered in error)
	// resolved in link, after every alias is known
	pendingClaims     []pendingClaim
	pendingConditions []pendingCondition
	types             map[string]uint8 // file -> phases present; written by the first pass's reader
	items             int              // resources seen; likewise
}

type role struct{ practitioner, organization *reference }

type patientInfo struct {
	org  *reference
	tins []string // managingOrganization's TIN first, then those of the patient's encounters and claims
}

type encounterInfo struct {
	patient         *reference
	serviceProvider *reference
	participants    []participant
	start           string
	tin             string
	conditions      []string // keys of Conditions that reference this encounter, in input order
}

type pendingCondition struct {
	encounter *reference
	key       string
}

type pendingClaim struct {
	patient  *reference
	provider *reference
	careTeam []careTeam
}

func newIndex() *index {
	return &index{alias: map[string]string{}, idents: map[string]string{}, anyIdent: map[string]string{},
		orgTIN: map[string]string{}, npi: map[string]string{}, roles: map[string]role{},
		pos: map[string]string{}, meds: map[string]*concept{}, patients: map[string]*patientInfo{},
		encounters: map[string]*encounterInfo{}, conditions: map[string][]coding{}, refuted: map[string]bool{}, types: map[string]uint8{}}
}

// indexKeys are, per resource type, the top-level elements the first pass
// decodes; other types are not decoded at all. Keys are per type because an
// element's shape can differ between types (PractitionerRole.code is a list).
// Identifiers are kept for the types other resources point at by
// identifier (Synthea and other bulk exporters write conditional references
// such as "Organization?identifier=system|value").
var indexKeys = map[string]map[string]bool{
	"Organization":         set("resourceType", "id", "identifier"),
	"Practitioner":         set("resourceType", "id", "identifier"),
	"PractitionerRole":     set("resourceType", "id", "identifier", "practitioner", "organization"),
	"Location":             set("resourceType", "id", "identifier", "type"),
	"Medication":           set("resourceType", "id", "identifier", "code"),
	"Patient":              set("resourceType", "id", "identifier", "managingOrganization"),
	"Encounter":            set("resourceType", "id", "identifier", "subject", "serviceProvider", "participant", "period"),
	"Condition":            set("resourceType", "id", "identifier", "code", "encounter", "verificationStatus"),
	"Claim":                set("resourceType", "id", "patient", "provider", "careTeam"),
	"ExplanationOfBenefit": set("resourceType", "id", "patient", "provider", "careTeam"),
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// parseIndexed decodes the first-pass view of an item: only the top-level
// elements the index keeps (indexKeys), the rest skipped at byte-scan speed.
// nil when the item is not indexed or does not decode (the second pass
// reports it).
func parseIndexed(it *item) *resource {
	keys := indexKeys[it.typ]
	if keys == nil {
		return nil
	}
	r := getResource()
	if decodeFields(it.data, r, keys) != nil || r.ResourceType == "" {
		putResource(r)
		return nil
	}
	return r
}

// The resource struct holds every element of every type Liaison reads
// (about a kilobyte), and a read decodes one per resource in each pass:
// pooled, they are zeroed and reused instead of collected. What the index
// and the records keep (strings, references, codings) is allocated apart,
// so a resource can go back to the pool once it is mapped or indexed.
var resourcePool = sync.Pool{New: func() any { return new(resource) }}

func getResource() *resource {
	r := resourcePool.Get().(*resource)
	*r = resource{}
	return r
}

func putResource(r *resource) {
	if r != nil {
		resourcePool.Put(r)
	}
}

// jsonString decodes a JSON string, without encoding/json when it has no
// escapes and is valid UTF-8.
func jsonString(val []byte) (string, bool) {
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' && bytes.IndexByte(val, '\\') < 0 && utf8.Valid(val) {
		return string(val[1 : len(val)-1]), true
	}
	var s string
	return s, json.Unmarshal(val, &s) == nil
}

// add records one item of the first pass, in input order.
func (x *index) add(it *item, r *resource) {
	if r == nil {
		return
	}
	id := resourceID(r.ID, it.fullURL)
	if id == "" {
		return
	}
	key := r.ResourceType + "/" + id
	if it.fullURL != "" {
		x.alias[it.fullURL] = key
	}
	for _, idf := range r.Identifier {
		if idf.Value == "" {
			continue
		}
		k := idf.System + "|" + idf.Value
		x.idents[r.ResourceType+"|"+k] = key
		if prev, seen := x.anyIdent[k]; seen && prev != key {
			x.anyIdent[k] = "" // shared by several resources: a logical reference must name its type
		} else {
			x.anyIdent[k] = key
		}
	}
	switch r.ResourceType {
	case "Organization":
		if tin := tinOf(r.Identifier); tin != "" {
			x.orgTIN[key] = tin
		}
	case "Practitioner":
		if npi := npiOf(r.Identifier); npi != "" {
			x.npi[key] = npi
		}
	case "PractitionerRole":
		x.roles[key] = role{r.Practitioner, r.Organization}
	case "Location":
		var types []concept
		if json.Unmarshal(r.Type, &types) == nil {
			if p := posOf(types); p != "" {
				x.pos[key] = p
			}
		}
	case "Medication":
		if r.Code != nil {
			x.meds[key] = r.Code
		}
	case "Patient":
		x.patients[key] = &patientInfo{org: r.ManagingOrganization}
	case "Encounter":
		e := &encounterInfo{patient: r.Subject, serviceProvider: r.ServiceProvider, participants: r.Participant}
		if r.Period != nil {
			e.start = r.Period.Start
		}
		x.encounters[key] = e
	case "Condition":
		if refuted(r.VerificationStatus) {
			x.refuted[key] = true
			return // not a diagnosis: no encounter gets it either
		}
		if r.Code != nil {
			x.conditions[key] = r.Code.Coding
		}
		if r.Encounter != nil && (r.Encounter.Reference != "" || r.Encounter.Identifier != nil) {
			x.pendingConditions = append(x.pendingConditions, pendingCondition{r.Encounter, key})
		}
	case "Claim", "ExplanationOfBenefit":
		x.pendingClaims = append(x.pendingClaims, pendingClaim{r.Patient, r.Provider, r.CareTeam})
	}
}

// link resolves what needed every alias: each encounter's TIN, the TINs each
// patient is seen under, and the Conditions that point at each encounter.
func (x *index) link() {
	for _, e := range x.encounters {
		e.tin = x.encounterTIN(e)
	}
	addTIN := func(p *reference, tin string) {
		if pi := x.patients[x.key(p)]; pi != nil && tin != "" && !containsString(pi.tins, tin) {
			pi.tins = append(pi.tins, tin)
		}
	}
	for _, p := range x.patients {
		if tin := x.tinOf(p.org); tin != "" {
			p.tins = append(p.tins, tin)
		}
	}
	// Encounters in a stable order so a patient's TIN list does not depend on map order.
	for _, pc := range x.pendingClaims {
		addTIN(pc.patient, x.claimTIN(pc.provider, pc.careTeam))
	}
	for _, k := range sortedKeys(x.encounters) {
		e := x.encounters[k]
		addTIN(e.patient, e.tin)
	}
	for _, pc := range x.pendingConditions {
		if e := x.encounters[x.key(pc.encounter)]; e != nil {
			e.conditions = append(e.conditions, pc.key)
		}
	}
	x.pendingClaims, x.pendingConditions = nil, nil
}

func (x *index) encounterTIN(e *encounterInfo) string {
	if tin := x.tinOf(e.serviceProvider); tin != "" {
		return tin
	}
	for _, p := range e.participants {
		if tin := x.tinOf(p.Individual); tin != "" {
			return tin
		}
	}
	return x.patientOrgTIN(e.patient)
}

func (x *index) claimTIN(provider *reference, team []careTeam) string {
	if tin := x.tinOf(provider); tin != "" {
		return tin
	}
	for _, c := range team {
		if tin := x.tinOf(c.Provider); tin != "" {
			return tin
		}
	}
	return ""
}

func (x *index) patientOrgTIN(p *reference) string {
	if pi := x.patients[x.key(p)]; pi != nil {
		return x.tinOf(pi.org)
	}
	return ""
}

// tinOf resolves a reference to a TIN: a logical reference by TIN
// identifier, an Organization, or a PractitionerRole's organization.
func (x *index) tinOf(r *reference) string {
	return x.follow(r, tinOf, x.orgTIN, func(ro role) *reference { return ro.organization })
}

// npiOf resolves a reference to a clinician's NPI: a logical reference by
// NPI, a Practitioner, or a PractitionerRole's practitioner. A reference
// that says it names another type (an Organization's NPI, as institutional
// claims give their provider) is no clinician.
func (x *index) npiOf(r *reference) string {
	if r == nil {
		return ""
	}
	typ := r.Type
	if t, _, ok := conditional(r.Reference); ok {
		typ = t
	}
	if typ != "" && typ != "Practitioner" && typ != "PractitionerRole" && !strings.HasSuffix(typ, "/Practitioner") && !strings.HasSuffix(typ, "/PractitionerRole") {
		return ""
	}
	return x.follow(r, npiOf, x.npi, func(ro role) *reference { return ro.practitioner })
}

// follow resolves a reference to a fact (a TIN, an NPI) from its
// identifier, from the resource it points at, or through a PractitionerRole.
func (x *index) follow(r *reference, fromIDs func([]identifier) string, facts map[string]string, via func(role) *reference) string {
	if r == nil {
		return ""
	}
	if r.Identifier != nil {
		// The identifier itself may be the fact (an NPI, a TIN), even when
		// the resource it names is not in the export.
		if v := fromIDs([]identifier{*r.Identifier}); v != "" {
			return v
		}
	} else if _, id, ok := conditional(r.Reference); ok {
		if v := fromIDs([]identifier{id}); v != "" {
			return v
		}
	}
	k := x.key(r)
	if v := facts[k]; v != "" {
		return v
	}
	if ro, ok := x.roles[k]; ok {
		return facts[x.key(via(ro))]
	}
	return ""
}

// key normalises a reference to "Type/id": relative (Patient/1), versioned
// (Patient/1/_history/2), absolute (https://x/fhir/Patient/1), a Bundle
// fullUrl such as urn:uuid:…, a conditional reference
// (Practitioner?identifier=system|value) or a logical one ({"identifier":
// …}) naming a resource of the export by identifier. It returns "" for
// contained ("#x") and unresolvable references.
func (x *index) key(r *reference) string {
	if r == nil {
		return ""
	}
	if r.Reference == "" {
		if r.Identifier != nil {
			return x.anyIdent[r.Identifier.System+"|"+r.Identifier.Value]
		}
		return ""
	}
	ref := r.Reference
	if k, ok := x.alias[ref]; ok {
		return k
	}
	if typ, id, ok := conditional(ref); ok {
		return x.idents[typ+"|"+id.System+"|"+id.Value]
	}
	if strings.HasPrefix(ref, "urn:") || strings.HasPrefix(ref, "#") {
		return ""
	}
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	i := strings.LastIndexByte(ref, '/')
	if i <= 0 || i == len(ref)-1 {
		return ""
	}
	j := strings.LastIndexByte(ref[:i], '/')
	typ := ref[j+1 : i]
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return ""
	}
	return typ + "/" + ref[i+1:]
}

// resourceID is a resource's id, or the one its fullUrl carries (a
// transaction Bundle may give only urn:uuid:… full URLs).
func resourceID(id, fullURL string) string {
	if id != "" {
		return id
	}
	if rest, ok := strings.CutPrefix(fullURL, "urn:uuid:"); ok {
		return rest
	}
	if i := strings.LastIndexByte(fullURL, '/'); i >= 0 && strings.Contains(fullURL, "://") {
		return fullURL[i+1:]
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// conditional parses a conditional reference, "Type?identifier=system|value"
// (the value may be URL-encoded, and the system left out), into its type and
// identifier. Other search parameters cannot be resolved offline.
func conditional(ref string) (string, identifier, bool) {
	if strings.IndexByte(ref, '?') < 0 {
		return "", identifier{}, false // the common case, without a copy
	}
	typ, query, ok := strings.Cut(ref, "?")
	if i := strings.LastIndexByte(typ, '/'); i >= 0 { // with a base: https://host/fhir/Type?…
		typ = typ[i+1:]
	}
	if !ok || typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return "", identifier{}, false
	}
	q, err := url.ParseQuery(query)
	if err != nil || len(q) != 1 || len(q["identifier"]) != 1 {
		return "", identifier{}, false
	}
	v := q["identifier"][0]
	sys, val, found := strings.Cut(v, "|")
	if !found {
		sys, val = "", v
	}
	if val == "" {
		return "", identifier{}, false
	}
	return typ, identifier{System: sys, Value: val}, true
}

// refuted reports a Condition verification status that means the diagnosis
// does not hold (refuted, entered in error).
func refuted(c *concept) bool {
	if c == nil {
		return false
	}
	for _, cd := range c.Coding {
		if verificationSkip[cd.Code] {
			return true
		}
	}
	return false
}
