package synth

import (
	"reflect"
	"testing"
)

// The refracture stream adds encounters after every other record and
// changes nothing else: without it, each patient is the same records, in
// the same order, with the same ids.
func TestRefracturesChangeNoOtherRecord(t *testing.T) {
	g := New(Defaults(3, 2024))
	added := 0
	for i := range 3000 {
		with, without := g.patient(i, true), g.patient(i, false)
		n := len(without.Encounters)
		if len(with.Encounters) < n || !reflect.DeepEqual(with.Encounters[:n], without.Encounters) {
			t.Fatalf("patient %d: the refracture stream changed an encounter made before it", i)
		}
		added += len(with.Encounters) - n
		with.Encounters = with.Encounters[:n]
		if !reflect.DeepEqual(with, without) {
			t.Fatalf("patient %d: the refracture stream changed a record other than its own encounters", i)
		}
	}
	if added == 0 {
		t.Fatal("no refracture or follow-up coding in 3000 patients: the test proves nothing")
	}
}
