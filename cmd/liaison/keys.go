package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// runKeys manages API keys on a server: create, list, revoke; and reads
// its audit log.
func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		groupUsage(stderr, "keys")
		return &exitError{2, nil}
	}
	fl := newFlagSet("keys "+args[0], stderr)
	server := addServerFlags(fl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call := func(fn func(pb.AccessServiceClient) error) error {
		conn, err := server.dial()
		if err != nil {
			return err
		}
		defer conn.Close()
		return clientError("keys "+args[0], fn(pb.NewAccessServiceClient(conn)))
	}
	switch args[0] {
	case "create":
		role := fl.String("role", "", "operator, practice or physician (required)")
		tin := fl.String("tin", "", "the practice's TIN (practice and physician keys)")
		npi := fl.String("npi", "", "the physician's NPI (physician keys)")
		label := fl.String("label", "", "what the key is for, shown in lists")
		expires := fl.String("expires", "", "when the key stops working: a duration (90d, 720h) or an RFC 3339 instant; default never")
		if err := fl.Parse(args[1:]); err != nil {
			return &exitError{2, nil}
		}
		req := &pb.CreateKeyRequest{Tin: *tin, Npi: *npi, Label: *label}
		var err error
		if req.Role, err = enumFlag("--role", *role, roles, pb.Role_value); err != nil {
			return badInput(fmt.Errorf("keys create: %w", err))
		}
		at, err := expiry(*expires, time.Now())
		if err != nil {
			return badInput(fmt.Errorf("keys create: --expires: %w", err))
		}
		req.ExpiresAt = at
		return call(func(c pb.AccessServiceClient) error {
			resp, err := c.CreateKey(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "created %s key %s; the key is printed once, below — store it now:\n", roleName(resp.Key.Role), resp.Key.Id)
			fmt.Fprintln(stdout, resp.Secret)
			return nil
		})
	case "list":
		all := fl.Bool("all", false, "include revoked and expired keys")
		if err := fl.Parse(args[1:]); err != nil {
			return &exitError{2, nil}
		}
		return call(func(c pb.AccessServiceClient) error {
			resp, err := c.ListKeys(ctx, &pb.ListKeysRequest{All: *all})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tROLE\tTIN\tNPI\tCREATED\tEXPIRES\tREVOKED\tLAST USED\tLABEL")
			for _, k := range resp.Keys {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Id, roleName(k.Role),
					dash(k.Tin), dash(k.Npi), dash(k.CreatedAt), dash(k.ExpiresAt), dash(k.RevokedAt), dash(k.LastUsedAt), k.Label)
			}
			return w.Flush()
		})
	case "revoke":
		if err := fl.Parse(args[1:]); err != nil {
			return &exitError{2, nil}
		}
		if fl.NArg() != 1 {
			return badInput(errors.New("keys revoke: give one key id (liaison keys list shows them)"))
		}
		return call(func(c pb.AccessServiceClient) error {
			resp, err := c.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: fl.Arg(0)})
			if err == nil {
				fmt.Fprintf(stdout, "revoked %s at %s\n", resp.Key.Id, resp.Key.RevokedAt)
			}
			return err
		})
	case "audit":
		keyID := fl.String("key-id", "", "only this key's calls")
		tin := fl.String("tin", "", "only calls scoped to this TIN")
		patient := fl.String("patient", "", "only calls that read or wrote this patient, TIN/SOURCE_ID (who read patient X)")
		run := fl.String("run", "", "only calls that read this evaluation run")
		requestID := fl.String("request-id", "", "only the call with this request id (x-request-id, as an answer or a log line gives it)")
		limit := fl.Int("limit", 50, "newest events to show (at most 1000)")
		if err := fl.Parse(args[1:]); err != nil {
			return &exitError{2, nil}
		}
		subject := ""
		switch {
		case *patient != "" && *run != "":
			return badInput(errors.New("keys audit: give --patient or --run, not both"))
		case *patient != "":
			if !strings.Contains(*patient, "/") {
				return badInput(fmt.Errorf("keys audit --patient %q: want TIN/SOURCE_ID, e.g. 123456789/MRN-1", *patient))
			}
			subject = "patient:" + *patient
		case *run != "":
			subject = "run:" + *run
		}
		return call(func(c pb.AccessServiceClient) error {
			resp, err := c.ListAuditEvents(ctx, &pb.ListAuditEventsRequest{KeyId: *keyID, Tin: *tin, Subject: subject, RequestId: *requestID, PageSize: int32(*limit)})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "AT\tKEY\tROLE\tMETHOD\tTIN\tNPI\tSUBJECT\tCODE\tITEMS\tREQUEST")
			for _, e := range resp.Events {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.At, dash(e.KeyId), roleName(e.Role),
					e.Method, dash(e.Tin), dash(e.Npi), dash(e.Subject), e.Code, e.Items, dash(e.RequestId))
			}
			return w.Flush()
		})
	}
	groupUsage(stderr, "keys")
	return badInput(fmt.Errorf("keys: unknown subcommand %q", args[0]))
}

// roles are --role's short names.
var roles = map[string]pb.Role{"operator": pb.Role_ROLE_OPERATOR, "practice": pb.Role_ROLE_PRACTICE, "physician": pb.Role_ROLE_PHYSICIAN}

// expiry reads --expires: "" (never), a duration with d for days, or an
// RFC 3339 instant.
func expiry(s string, now time.Time) (string, error) {
	if s == "" {
		return "", nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	}
	if err != nil || d <= 0 {
		return "", fmt.Errorf("%q is neither a positive duration (90d, 720h) nor an RFC 3339 instant", s)
	}
	return now.Add(d).UTC().Format(time.RFC3339), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roleName(r pb.Role) string {
	if r == pb.Role_ROLE_UNSPECIFIED {
		return "-" // a call with no valid key
	}
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}
