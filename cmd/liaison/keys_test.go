package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgtest"
)

func TestKeysCreateListRevokeAudit(t *testing.T) {
	srv, err := app.Start(context.Background(), app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t),
		Logger: slog.New(slog.DiscardHandler), ClientKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	t.Setenv("LIAISON_KEY", srv.OperatorKey)
	t.Setenv("LIAISON_GRPC_ADDR", srv.GRPCAddr)

	code, out, errs := runCLI("keys", "create", "--role", "physician", "--tin", "123456789", "--npi", "1234567893", "--label", "Dr Lee", "--expires", "90d")
	secret := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(secret, "lsk_") || !strings.Contains(errs, "printed once") {
		t.Fatalf("create: exit %d, %q %q", code, out, errs)
	}
	id := strings.Split(secret, "_")[1]
	code, out, _ = runCLI("keys", "list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "physician") || strings.Contains(out, secret) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	// The physician's key works for what a physician may do, and not for keys.
	t.Setenv("LIAISON_KEY", secret)
	if code, _, errs := runCLI("keys", "list"); code != 2 || !strings.Contains(errs, "may not call") {
		t.Errorf("physician listing keys: exit %d, %q", code, errs)
	}
	t.Setenv("LIAISON_KEY", srv.OperatorKey)
	if code, out, _ := runCLI("keys", "revoke", id); code != 0 || !strings.Contains(out, "revoked "+id) {
		t.Errorf("revoke: exit %d, %q", code, out)
	}
	if code, out, _ := runCLI("keys", "list"); code != 0 || strings.Contains(out, id) {
		t.Errorf("revoked key still listed as active:\n%s", out)
	}
	if code, out, _ := runCLI("keys", "list", "--all"); code != 0 || !strings.Contains(out, id) {
		t.Errorf("list --all lacks the revoked key:\n%s", out)
	}
	code, out, _ = runCLI("keys", "audit", "--key-id", id)
	if code != 0 || !strings.Contains(out, "/liaison.v1.AccessService/ListKeys") || !strings.Contains(out, "PermissionDenied") {
		t.Errorf("audit: exit %d\n%s", code, out)
	}
	// Who read patient X: no call touched MRN-404, so only the header.
	code, out, _ = runCLI("keys", "audit", "--patient", "123456789/MRN-404")
	if code != 0 || !strings.Contains(out, "SUBJECT") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("audit --patient: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"keys", "audit", "--patient", "MRN-1"}, {"keys", "audit", "--patient", "1/2", "--run", "x"},
		{"keys"}, {"keys", "create"}, {"keys", "create", "--role", "admin"}, {"keys", "create", "--role", "practice"},
		{"keys", "create", "--role", "practice", "--tin", "123456789", "--expires", "soon"}, {"keys", "revoke"}, {"keys", "rotate"},
	} {
		if code, _, errs := runCLI(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a reason", args, code, errs)
		}
	}
}
