package bench

import (
	"bytes"
	"testing"

	"github.com/liaison-registry/liaison/internal/validate"
)

func TestLargeQRDA3(t *testing.T) {
	a, err := LargeQRDA3(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LargeQRDA3(1 << 20)
	if len(a) < 1<<20 || !bytes.Equal(a, b) {
		t.Fatalf("size %d, reproducible %v", len(a), bytes.Equal(a, b))
	}
	r := validate.Validate("large.xml", a, 0)
	if !r.Valid || r.Format != validate.QRDA3 || r.Year != 2025 {
		t.Fatalf("%+v\n%s", r, r.Findings)
	}
}

func BenchmarkValidate1MB(b *testing.B) {
	data, err := LargeQRDA3(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		validate.Validate("large.xml", data, 0)
	}
}
