package bench

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liaison-registry/liaison/internal/validate"
)

//go:embed testdata/Mvp_Mips-Group-Sample.xml
var qrdaSample []byte

// ValidateResult is what the validation benchmark measured.
type ValidateResult struct {
	Files   int
	Bytes   int
	Workers int
	Seconds float64
}

// Line formats the BENCH line `make bench` prints.
func (r ValidateResult) Line() string {
	return fmt.Sprintf("BENCH validate files=%d seconds=%.2f files_per_s=%.1f file_mb=%.2f workers=%d",
		r.Files, r.Seconds, float64(r.Files)/r.Seconds, float64(r.Bytes)/(1<<20), r.Workers)
}

// LargeQRDA3 builds a valid QRDA III file of at least size bytes from CMS's
// PY2025 group sample by repeating its measure entry, each copy with its own
// measure GUID (the validator rejects repeated GUIDs). Same size, same bytes.
func LargeQRDA3(size int) ([]byte, error) {
	start := bytes.Index(qrdaSample, []byte("<entry>"))
	end := bytes.Index(qrdaSample, []byte("</entry>"))
	const guid = "8a6d0454-8df0-2d9f-018d-f6aeba950637"
	if start < 0 || end < start {
		return nil, fmt.Errorf("sample has no measure entry")
	}
	end += len("</entry>")
	entry := qrdaSample[start:end]
	if !bytes.Contains(entry, []byte(guid)) {
		return nil, fmt.Errorf("sample's measure entry lacks GUID %s", guid)
	}
	var out bytes.Buffer
	out.Write(qrdaSample[:end])
	for i := 1; out.Len()+len(qrdaSample)-end < size; i++ {
		out.Write(bytes.Replace(entry, []byte(guid), fmt.Appendf(nil, "%s%012x", guid[:24], i), 1))
	}
	out.Write(qrdaSample[end:])
	return out.Bytes(), nil
}

// Validate validates a 1 MB QRDA III file `files` times, spread over one
// worker per CPU as a registry validating a batch would, and times it.
func Validate(ctx context.Context, files int, progress io.Writer) (ValidateResult, error) {
	data, err := LargeQRDA3(1 << 20)
	if err != nil {
		return ValidateResult{}, err
	}
	if r := validate.Validate("bench.xml", data, 0); !r.Valid || r.Format != validate.QRDA3 {
		return ValidateResult{}, fmt.Errorf("benchmark file is not a valid QRDA III file:\n%s", r.Findings)
	}
	workers := runtime.GOMAXPROCS(0)
	fmt.Fprintf(progress, "validate: %d × %d-byte QRDA III file on %d workers\n", files, len(data), workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(files) && ctx.Err() == nil {
				if !validate.Validate("bench.xml", data, 0).Valid {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	res := ValidateResult{Files: files, Bytes: len(data), Workers: workers, Seconds: time.Since(t0).Seconds()}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if failed.Load() {
		return res, fmt.Errorf("a validation run disagreed with the first")
	}
	return res, nil
}
