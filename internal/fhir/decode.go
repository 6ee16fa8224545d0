package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// decodeResource fills r from one resource's JSON without reflection:
// encoding/json's reflective decode was half of the reader's CPU. The input
// is validated first (json.Valid), so syntax errors anywhere are still
// reported; then only the elements of resource are read, by the byte
// scanner. Keys match exactly (FHIR's are case-sensitive); null leaves a
// field empty, as in encoding/json. A value of the wrong JSON type is a
// *shapeError naming its path.
func decodeResource(b []byte, r *resource) error {
	if !json.Valid(b) {
		var v any
		return json.Unmarshal(b, &v) // for encoding/json's message
	}
	return decodeFields(b, r, nil)
}

// decodeFields is decodeResource without the validation, reading only the
// top-level elements in keep (nil: all); the first pass uses it.
func decodeFields(b []byte, r *resource, keep map[string]bool) error {
	d := &jd{}
	d.object(b, "", func(k string, v []byte) {
		if keep != nil && !keep[k] {
			return
		}
		switch k {
		case "resourceType":
			d.str(v, k, &r.ResourceType)
		case "id":
			d.str(v, k, &r.ID)
		case "status":
			d.str(v, k, &r.Status)
		case "identifier":
			r.Identifier = nil
			d.array(v, k, func(v []byte) { var x identifier; d.identifier(v, k, &x); r.Identifier = append(r.Identifier, x) })
		case "name":
			r.Name = v
		case "type":
			r.Type = v
		case "contained":
			r.Contained = nil
			d.array(v, k, func(v []byte) { r.Contained = append(r.Contained, v) })
		case "extension":
			r.Extension = nil
			d.extensions(v, k, &r.Extension)
		case "gender":
			d.str(v, k, &r.Gender)
		case "birthDate":
			d.str(v, k, &r.BirthDate)
		case "deceasedBoolean":
			d.boolean(v, k, &r.DeceasedBoolean)
		case "deceasedDateTime":
			d.str(v, k, &r.DeceasedDateTime)
		case "managingOrganization":
			r.ManagingOrganization = d.reference(v, k)
		case "practitioner":
			r.Practitioner = d.reference(v, k)
		case "qualification":
			objects(d, v, k, &r.Qualification, func(q *qualification, k2 string, v []byte) {
				if k2 == "code" {
					q.Code = d.concept(v, k+".code")
				}
			})
		case "organization":
			r.Organization = d.reference(v, k)
		case "class":
			r.Class = v
		case "period":
			r.Period = d.period(v, k)
		case "participant":
			objects(d, v, k, &r.Participant, func(p *participant, k2 string, v []byte) {
				switch k2 {
				case "type":
					d.concepts(v, k+".type", &p.Type)
				case "individual":
					p.Individual = d.reference(v, k+".individual")
				}
			})
		case "serviceProvider":
			r.ServiceProvider = d.reference(v, k)
		case "hospitalization":
			if r.Hospitalization == nil && !isNull(v) && len(v) > 0 && v[0] == '{' {
				r.Hospitalization = &hospitalization{}
			}
			d.object(v, k, func(k2 string, v []byte) {
				if k2 == "dischargeDisposition" {
					r.Hospitalization.DischargeDisposition = d.concept(v, k+"."+k2)
				}
			})
		case "reasonCode":
			d.concepts(v, k, &r.ReasonCode)
		case "reasonReference":
			objects(d, v, k, &r.ReasonReference, func(x *reference, k2 string, v []byte) { d.referenceField(x, k, k2, v) })
		case "dateAsserted":
			d.str(v, k, &r.DateAsserted)
		case "informationSource":
			r.InformationSource = d.reference(v, k)
		case "effectiveInstant":
			d.str(v, k, &r.EffectiveInstant)
		case "issued":
			d.str(v, k, &r.Issued)
		case "valueQuantity":
			r.ValueQuantity = d.quantity(v, k)
		case "valueCodeableConcept":
			r.ValueCodeableConcept = d.concept(v, k)
		case "issue":
			objects(d, v, k, &r.Issue, func(x *issue, k2 string, v []byte) {
				switch k2 {
				case "severity":
					d.str(v, k+"."+k2, &x.Severity)
				case "code":
					d.str(v, k+"."+k2, &x.Code)
				case "diagnostics":
					d.str(v, k+"."+k2, &x.Diagnostics)
				case "details":
					x.Details = d.concept(v, k+"."+k2)
				}
			})
		case "location":
			r.Location = v
		case "diagnosis":
			objects(d, v, k, &r.Diagnosis, func(x *diagnosis, k2 string, v []byte) {
				switch k2 {
				case "condition":
					x.Condition = d.reference(v, k+"."+k2)
				case "rank":
					d.integer(v, k+"."+k2, &x.Rank)
				case "sequence":
					d.integer(v, k+"."+k2, &x.Sequence)
				case "diagnosisCodeableConcept":
					x.DiagnosisCodeableConcept = d.concept(v, k+"."+k2)
				case "diagnosisReference":
					x.DiagnosisReference = d.reference(v, k+"."+k2)
				}
			})
		case "code":
			r.Code = d.concept(v, k)
		case "subject":
			r.Subject = d.reference(v, k)
		case "patient":
			r.Patient = d.reference(v, k)
		case "encounter":
			r.Encounter = d.reference(v, k)
		case "context":
			r.Context = d.reference(v, k)
		case "verificationStatus":
			r.VerificationStatus = d.concept(v, k)
		case "onsetDateTime":
			d.str(v, k, &r.OnsetDateTime)
		case "onsetPeriod":
			r.OnsetPeriod = d.period(v, k)
		case "recordedDate":
			d.str(v, k, &r.RecordedDate)
		case "performedDateTime":
			d.str(v, k, &r.PerformedDateTime)
		case "performedPeriod":
			r.PerformedPeriod = d.period(v, k)
		case "performer":
			r.Performer = v
		case "outcome":
			r.Outcome = v
		case "medicationCodeableConcept":
			r.MedicationCodeableConcept = d.concept(v, k)
		case "medicationReference":
			r.MedicationReference = d.reference(v, k)
		case "authoredOn":
			d.str(v, k, &r.AuthoredOn)
		case "intent":
			d.str(v, k, &r.Intent)
		case "doNotPerform":
			d.boolean(v, k, &r.DoNotPerform)
		case "statusReason":
			r.StatusReason = v
		case "statusReasonCodeableConcept":
			r.StatusReasonCodeableConcept = d.concept(v, k)
		case "requester":
			r.Requester = d.reference(v, k)
		case "dispenseRequest":
			if r.DispenseRequest == nil && !isNull(v) && len(v) > 0 && v[0] == '{' {
				r.DispenseRequest = &dispenseRequest{}
			}
			d.object(v, k, func(k2 string, v []byte) {
				switch k2 {
				case "expectedSupplyDuration":
					r.DispenseRequest.ExpectedSupplyDuration = d.quantity(v, k+"."+k2)
				case "quantity":
					r.DispenseRequest.Quantity = d.quantity(v, k+"."+k2)
				}
			})
		case "whenHandedOver":
			d.str(v, k, &r.WhenHandedOver)
		case "whenPrepared":
			d.str(v, k, &r.WhenPrepared)
		case "daysSupply":
			r.DaysSupply = d.quantity(v, k)
		case "quantity":
			r.Quantity = d.quantity(v, k)
		case "effectiveDateTime":
			d.str(v, k, &r.EffectiveDateTime)
		case "effectivePeriod":
			r.EffectivePeriod = d.period(v, k)
		case "beneficiary":
			r.Beneficiary = d.reference(v, k)
		case "use":
			d.str(v, k, &r.Use)
		case "billablePeriod":
			r.BillablePeriod = d.period(v, k)
		case "created":
			d.str(v, k, &r.Created)
		case "provider":
			r.Provider = d.reference(v, k)
		case "careTeam":
			objects(d, v, k, &r.CareTeam, func(c *careTeam, k2 string, v []byte) {
				switch k2 {
				case "sequence":
					d.integer(v, k+"."+k2, &c.Sequence)
				case "provider":
					c.Provider = d.reference(v, k+"."+k2)
				case "role":
					c.Role = d.concept(v, k+"."+k2)
				}
			})
		case "item":
			objects(d, v, k, &r.Item, func(it *claimItem, k2 string, v []byte) { d.claimItem(it, k+"."+k2, k2, v) })
		case "supportingInfo":
			objects(d, v, k, &r.SupportingInfo, func(x *supportingInfo, k2 string, v []byte) {
				switch k2 {
				case "category":
					if c := d.concept(v, k+"."+k2); c != nil {
						x.Category = *c
					}
				case "valueQuantity":
					x.ValueQuantity = d.quantity(v, k+"."+k2)
				case "code":
					x.Code = d.concept(v, k+"."+k2)
				case "timingPeriod":
					x.TimingPeriod = d.period(v, k+"."+k2)
				}
			})
		case "subType":
			r.SubType = d.concept(v, k)
		case "facility":
			r.Facility = d.claimFacility(v, k)
		}
	})
	return d.err
}

// claimFacility reads Claim/ExplanationOfBenefit.facility.
func (d *jd) claimFacility(v []byte, path string) *claimFacility {
	if d.err != nil || isNull(v) {
		return nil
	}
	f := &claimFacility{}
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "reference":
			d.str(v, path+".reference", &f.Reference)
		case "identifier":
			if !isNull(v) {
				f.Identifier = &identifier{}
				d.identifier(v, path+".identifier", f.Identifier)
			}
		case "extension":
			f.Extension = nil
			d.extensions(v, path+".extension", &f.Extension)
		}
	})
	return f
}

// shapeError is a value whose JSON type the element does not have.
type shapeError struct {
	path, got, want string
}

func (e *shapeError) Error() string {
	return fmt.Sprintf("%s is JSON %s where FHIR R4 has %s", e.path, e.got, e.want)
}

// jd decodes with the byte scanner; the first shape error stops it.
type jd struct{ err error }

func (d *jd) fail(path string, v []byte, want string) {
	if d.err == nil {
		d.err = &shapeError{path, jsonKind(v), want}
	}
}

func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

func (d *jd) object(v []byte, path string, field func(k string, v []byte)) {
	if d.err != nil || isNull(v) {
		return
	}
	if len(v) == 0 || v[0] != '{' {
		d.fail(path, v, "an object")
		return
	}
	eachField(v, func(key, val []byte) bool {
		k := string(key)
		if bytes.IndexByte(key, '\\') >= 0 {
			if s, ok := jsonString(append(append([]byte{'"'}, key...), '"')); ok {
				k = s
			}
		}
		field(k, val)
		return d.err == nil
	})
}

func (d *jd) array(v []byte, path string, elem func(v []byte)) {
	if d.err != nil || isNull(v) {
		return
	}
	if len(v) == 0 || v[0] != '[' {
		d.fail(path, v, "an array")
		return
	}
	i := skipSpace(v, 1)
	for i < len(v) && v[i] != ']' && d.err == nil {
		end := skipValue(v, i)
		if end < 0 {
			return
		}
		elem(v[i:end])
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
}

func (d *jd) str(v []byte, path string, dst *string) {
	if d.err != nil || isNull(v) {
		return
	}
	if len(v) == 0 || v[0] != '"' {
		d.fail(path, v, "a string")
		return
	}
	*dst, _ = jsonString(v)
}

func (d *jd) integer(v []byte, path string, dst *int) {
	if d.err != nil || isNull(v) {
		return
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		d.fail(path, v, "an integer")
		return
	}
	*dst = n
}

func (d *jd) boolean(v []byte, path string, dst **bool) {
	if d.err != nil || isNull(v) {
		return
	}
	b, err := strconv.ParseBool(string(v))
	if err != nil || (string(v) != "true" && string(v) != "false") {
		d.fail(path, v, "a boolean")
		return
	}
	*dst = &b
}

func (d *jd) coding(v []byte, path string, c *coding) {
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "system":
			d.str(v, path+".system", &c.System)
		case "code":
			d.str(v, path+".code", &c.Code)
		case "display":
			d.str(v, path+".display", &c.Display)
		}
	})
}

func (d *jd) concept(v []byte, path string) *concept {
	if d.err != nil || isNull(v) {
		return nil
	}
	c := &concept{}
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "coding":
			c.Coding = nil
			d.array(v, path+".coding", func(v []byte) { var x coding; d.coding(v, path+".coding", &x); c.Coding = append(c.Coding, x) })
		case "text":
			d.str(v, path+".text", &c.Text)
		}
	})
	return c
}

func (d *jd) concepts(v []byte, path string, dst *[]concept) {
	*dst = nil
	d.array(v, path, func(v []byte) {
		if c := d.concept(v, path); c != nil {
			*dst = append(*dst, *c)
		} else {
			*dst = append(*dst, concept{})
		}
	})
}

func (d *jd) identifier(v []byte, path string, id *identifier) {
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "system":
			d.str(v, path+".system", &id.System)
		case "value":
			d.str(v, path+".value", &id.Value)
		case "type":
			id.Type = d.concept(v, path+".type")
		}
	})
}

func (d *jd) reference(v []byte, path string) *reference {
	if d.err != nil || isNull(v) {
		return nil
	}
	r := &reference{}
	d.object(v, path, func(k string, v []byte) { d.referenceField(r, path, k, v) })
	return r
}

func (d *jd) referenceField(r *reference, path, k string, v []byte) {
	switch k {
	case "reference":
		d.str(v, path+".reference", &r.Reference)
	case "type":
		d.str(v, path+".type", &r.Type)
	case "identifier":
		if isNull(v) {
			return
		}
		r.Identifier = &identifier{}
		d.identifier(v, path+".identifier", r.Identifier)
	}
}

func (d *jd) period(v []byte, path string) *period {
	if d.err != nil || isNull(v) {
		return nil
	}
	p := &period{}
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "start":
			d.str(v, path+".start", &p.Start)
		case "end":
			d.str(v, path+".end", &p.End)
		}
	})
	return p
}

func (d *jd) quantity(v []byte, path string) *quantity {
	if d.err != nil || isNull(v) {
		return nil
	}
	q := &quantity{}
	d.object(v, path, func(k string, v []byte) {
		switch k {
		case "value":
			if isNull(v) {
				return
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || strings.ContainsAny(string(v[:1]), `"tfn{[`) {
				d.fail(path+".value", v, "a number")
				return
			}
			q.Value = &f
		case "unit":
			d.str(v, path+".unit", &q.Unit)
		case "code":
			d.str(v, path+".code", &q.Code)
		}
	})
	return q
}

func (d *jd) extensions(v []byte, path string, dst *[]extension) {
	d.array(v, path, func(v []byte) {
		var e extension
		d.object(v, path, func(k string, v []byte) {
			switch k {
			case "url":
				d.str(v, path+".url", &e.URL)
			case "valueCode":
				d.str(v, path+".valueCode", &e.ValueCode)
			case "valueCoding":
				if isNull(v) {
					return
				}
				e.ValueCoding = &coding{}
				d.coding(v, path+".valueCoding", e.ValueCoding)
			case "extension":
				e.Extension = nil
				d.extensions(v, path+".extension", &e.Extension)
			}
		})
		*dst = append(*dst, e)
	})
}

// claimItem reads one element of Claim.item (key k at path p).
func (d *jd) claimItem(it *claimItem, p, k string, v []byte) {
	switch k {
	case "sequence":
		d.integer(v, p, &it.Sequence)
	case "careTeamSequence":
		it.CareTeamSequence = nil
		d.array(v, p, func(v []byte) { var n int; d.integer(v, p, &n); it.CareTeamSequence = append(it.CareTeamSequence, n) })
	case "productOrService":
		it.ProductOrService = d.concept(v, p)
	case "modifier":
		d.concepts(v, p, &it.Modifier)
	case "servicedDate":
		d.str(v, p, &it.ServicedDate)
	case "servicedPeriod":
		it.ServicedPeriod = d.period(v, p)
	case "locationCodeableConcept":
		it.LocationCodeableConcept = d.concept(v, p)
	case "quantity":
		it.Quantity = d.quantity(v, p)
	case "encounter":
		objects(d, v, p, &it.Encounter, func(r *reference, k2 string, v []byte) { d.referenceField(r, p, k2, v) })
	case "revenue":
		it.Revenue = d.concept(v, p)
	}
}

// objects reads a JSON array of objects into dst (replacing it, as
// encoding/json does), calling field for each element's keys.
func objects[T any](d *jd, v []byte, path string, dst *[]T, field func(x *T, k string, v []byte)) {
	*dst = nil
	d.array(v, path, func(v []byte) {
		var x T
		d.object(v, path, func(k string, v []byte) { field(&x, k, v) })
		*dst = append(*dst, x)
	})
}
