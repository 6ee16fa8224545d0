package synth

import (
	"reflect"
	"testing"
)

// The refracture stream adds encounters and their quality-data codes after
// every other record and changes nothing else: without it, each patient is
// the same records, in the same order, with the same ids.
func TestRefracturesChangeNoOtherRecord(t *testing.T) {
	g := New(Defaults(3, 2024))
	encounters, codes := 0, 0
	for i := range 3000 {
		with, without := g.patient(i, true), g.patient(i, false)
		n, q := len(without.Encounters), len(without.Quality)
		if len(with.Encounters) < n || len(with.Quality) < q {
			t.Fatalf("patient %d: the refracture stream dropped records", i)
		}
		encounters += len(with.Encounters) - n
		codes += len(with.Quality) - q
		// Cut the stream's own records off the end (to the other's slice,
		// nil or not, when nothing came before them).
		with.Encounters, with.Quality = append(without.Encounters[:0:0], with.Encounters[:n]...), append(without.Quality[:0:0], with.Quality[:q]...)
		if n == 0 {
			with.Encounters = without.Encounters
		}
		if q == 0 {
			with.Quality = without.Quality
		}
		if !reflect.DeepEqual(with, without) {
			t.Fatalf("patient %d: the refracture stream changed a record other than its own encounters and codes", i)
		}
	}
	if encounters == 0 || codes == 0 {
		t.Fatalf("%d encounters and %d quality codes from the refracture stream in 3000 patients: the test proves nothing", encounters, codes)
	}
}
