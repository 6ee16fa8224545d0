package synth

import (
	"reflect"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func TestSameSeedSamePatients(t *testing.T) {
	a := Population(Defaults(7, 2024), 200)
	b := Population(Defaults(7, 2024), 300)[:200]
	if !reflect.DeepEqual(a, b) {
		t.Fatal("patient i depends on n or on run")
	}
	if reflect.DeepEqual(a, Population(Defaults(8, 2024), 200)) {
		t.Fatal("different seeds gave the same patients")
	}
}

func TestIdentifiersAreValid(t *testing.T) {
	for _, p := range Population(Defaults(1, 2024), 100) {
		for _, e := range p.Encounters {
			if !clinical.ValidTIN(e.TIN) || !clinical.ValidNPI(e.RenderingNPI) {
				t.Fatalf("invalid TIN %q or NPI %q", e.TIN, e.RenderingNPI)
			}
		}
	}
}
