package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/validate"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestSubmitCommand(t *testing.T) {
	addr, runID, doc := finishedRun(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "qpp.json")
	var stdout, stderr bytes.Buffer
	args := []string{"submit", "--run", runID, "--format", "qpp-json", "--tin", doc.Tin, "--npi", doc.Npi, "--out", out, "--server", addr}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := validate.Validate(out, first, 2024); !r.Valid || !strings.Contains(string(first), `"nationalProviderIdentifier": "`+doc.Npi+`"`) {
		t.Errorf("%s: %+v\n%s", out, r.Findings, first)
	}
	// The same run gives the same bytes.
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("a second submit wrote different bytes")
	}
	// The server's refusal exits 2 and leaves the existing file alone.
	stderr.Reset()
	if code := run([]string{"submit", "--run", runID, "--tin", "999999999", "--out", out, "--server", addr}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "no cases") {
		t.Errorf("a practice without cases: exit %d, %s", code, stderr.String())
	}
	if now, _ := os.ReadFile(out); !bytes.Equal(first, now) {
		t.Error("a refused submit changed the file")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".liaison-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// badServer hands out a file that fails validation.
type badServer struct {
	pb.UnimplementedSubmissionServiceServer
}

func (badServer) BuildSubmission(context.Context, *pb.BuildSubmissionRequest) (*pb.BuildSubmissionResponse, error) {
	return &pb.BuildSubmissionResponse{FileName: "bad.json", ContentType: "application/json",
		Content: []byte(`{"entityType": "group", "performanceYear": 2024, "taxpayerIdentificationNumber": "12345"}`)}, nil
}

func TestSubmitWritesOnlyValidFiles(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterSubmissionServiceServer(srv, badServer{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	out := filepath.Join(t.TempDir(), "bad.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"submit", "--run", "r", "--tin", "123456789", "--out", out, "--server", lis.Addr().String(), "--key", "k"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "qppjson.tin.format") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an invalid file was written: %v", err)
	}
}

func TestSubmitUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"submit"},
		{"submit", "--run", "r"},
		{"submit", "--run", "r", "--tin", "123456789", "--format", "qrda3"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}
