package builtin

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

func TestParseExceptionTag(t *testing.T) {
	cases := []struct {
		in     string
		until  time.Time
		reason string
		bad    bool
	}{
		{"2026-06-30", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "", false},
		{"2026-06-30;kept for the audit", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "kept for the audit", false},
		{" 2026-06-30 ; audit ", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "audit", false},
		{"2026-06-30T10:00:00Z;x", time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC), "x", false},
		{"2026-06-30T12:00:00+02:00", time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC), "", false},
		{"", time.Time{}, "", true},
		{"forever", time.Time{}, "", true},
		{"30/06/2026", time.Time{}, "", true},
		{"2026-02-30", time.Time{}, "", true},
		{";reason only", time.Time{}, "", true},
	}
	for _, c := range cases {
		got, err := ParseExceptionTag(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: %+v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !got.Until.Equal(c.until) || got.Reason != c.reason {
			t.Errorf("%q: %+v %v, want %s %q", c.in, got, err, c.until, c.reason)
		}
	}
	// Formatting a date-end and reading it back gives the same end.
	until := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	v := FormatExceptionTag(until, "audit; Q3")
	if v != "2026-06-30;audit, Q3" {
		t.Errorf("format = %q", v)
	}
	if got, err := ParseExceptionTag(v); err != nil || !got.Until.Equal(until) {
		t.Errorf("round trip %q: %+v %v", v, got, err)
	}
	if v := FormatExceptionTag(until.Add(time.Hour), strings.Repeat("r", 300)); len(v) != 256 {
		t.Errorf("long reason: %d characters", len(v))
	}
}

func exceptionInput(arn, tag string) string {
	if tag == "" {
		return `{"Resource": "` + arn + `", "Tags": [{"Key": "Name", "Value": "x"}]}`
	}
	return `{"Resource": "` + arn + `", "Tags": [{"Key": "steward:exception", "Value": "` + tag + `"}]}`
}

func TestExceptionFromTag(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	arn := volARN("vol-1")
	out := mustCall(t, tk, ResourceException, exceptionInput(arn, "2026-03-31;migration"), "")
	if out["Excepted"] != true || out["Until"] != "2026-04-01T00:00:00Z" || out["Source"] != "tag" || out["Reason"] != "migration" {
		t.Errorf("future: %v", out)
	}
	out = mustCall(t, tk, ResourceException, exceptionInput(arn, "2026-02-28"), "")
	if out["Excepted"] != false {
		t.Errorf("past: %v", out)
	}
	out = mustCall(t, tk, ResourceException, exceptionInput(arn, ""), "")
	if out["Excepted"] != false {
		t.Errorf("none: %v", out)
	}
	// The last day counts in full.
	e.clock.Set(time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC))
	if out := mustCall(t, tk, ResourceException, exceptionInput(arn, "2026-03-31"), ""); out["Excepted"] != true {
		t.Errorf("last day: %v", out)
	}
	_, err := call(t, tk, ResourceException, exceptionInput(arn, "next year"), "")
	if aslName(err) != ErrInvalidException || !strings.Contains(err.Error(), "steward:exception") || !strings.Contains(err.Error(), "next year") || !strings.Contains(err.Error(), arn) {
		t.Errorf("malformed: %v", err)
	}
}

func TestExceptionFromStore(t *testing.T) {
	e := newEnv(t)
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tk := e.tasks(func(d *Deps) { d.Exceptions = db })
	arn := volARN("vol-1")
	ctx := context.Background()
	// One for another playbook does not count; one for this playbook does.
	if _, err := db.GrantException(ctx, store.Exception{Resource: arn, Playbook: "sg-open", Until: t0.AddDate(0, 1, 0), GrantedBy: "carol", GrantedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if out := mustCall(t, tk, ResourceException, exceptionInput(arn, ""), ""); out["Excepted"] != false {
		t.Errorf("other playbook's exception counted: %v", out)
	}
	g, err := db.GrantException(ctx, store.Exception{Resource: arn, Playbook: "ebs-unused", Until: t0.AddDate(0, 1, 0), Reason: "audit", GrantedBy: "alice@example.com", GrantedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	out := mustCall(t, tk, ResourceException, exceptionInput(arn, "garbage"), "")
	if out["Excepted"] != true || out["Source"] != "store" || out["By"] != "alice@example.com" || out["Reason"] != "audit" || out["Until"] != "2026-04-01T12:00:00Z" {
		t.Errorf("store: %v", out)
	}
	if _, err := db.RevokeException(ctx, g.ID, "bob", t0); err != nil {
		t.Fatal(err)
	}
	// Revoked: the (malformed) tag decides again.
	if _, err := call(t, tk, ResourceException, exceptionInput(arn, "garbage"), ""); aslName(err) != ErrInvalidException {
		t.Errorf("after revoke: %v", err)
	}
}
