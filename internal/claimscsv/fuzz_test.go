package claimscsv

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// FuzzRead feeds arbitrary CSV to the reader: it must not panic, and every
// row must be accounted for, each rejected one with a problem naming it.
func FuzzRead(f *testing.F) {
	b, err := os.ReadFile("testdata/claims.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	if b, err = os.ReadFile("testdata/setting.csv"); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("patient_id,claim_id,line_number,date_of_service,revenue_code,type_of_bill,admission_date,discharge_date,discharge_status,claim_type\nP,C,1,2025-01-02,450,0111,01/02/2025,2025-01-01,3,Institutional\nP,C,2,2025-01-03,04X0,11,x,,300,pharmacy\n"))
	f.Add([]byte("patient_id,claim_id,line_number,date_of_service,code,dx1\nP,C,1,01/02/2024,99213,M81.0\n"))
	f.Add([]byte("\ufeffpatient_id,claim_id,line_number,date_of_service,ndc,days_supply\r\n\"P\"\"1\",C,1,2024-01-01,00006003154,x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rejected := map[int]bool{}
		sum, err := ReadFrom(context.Background(), bytes.NewReader(data), "fuzz.csv", Options{DefaultTIN: "123456789"}, source.Sink{
			Record: func(rec *pb.Record, _ source.Origin) error {
				if rec.GetKind() == nil {
					t.Fatal("record without a kind")
				}
				return nil
			},
			Problem: func(p source.Problem) {
				if !p.Flag {
					rejected[p.Item] = true
				}
			},
		})
		if err != nil {
			return // a missing or unreadable header stops the file, with an error naming it
		}
		if !sum.Balanced() || sum.Rejected != len(rejected) {
			t.Fatalf("summary %+v, %d rows with rejections", sum, len(rejected))
		}
	})
}
