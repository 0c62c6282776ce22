package builtin

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

func openStore(t *testing.T) *storesqlite.DB { return openStoreB(t) }

func openStoreB(t testing.TB) *storesqlite.DB {
	t.Helper()
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestGrantAndRevokeMirrorTheTag(t *testing.T) {
	e := newEnv(t)
	db := openStore(t)
	tk := e.tasks(func(d *Deps) { d.Exceptions = db })
	ctx := context.Background()
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data"})
	arn := volARN("vol-1")
	until := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)

	g, err := tk.GrantException(ctx, store.Exception{Resource: arn, Playbook: "ebs-unused", Until: until, Reason: "audit", GrantedBy: "alice@example.com", Channel: "cli"}, ExceptionPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Account != acct || g.Region != region || g.ID == "" {
		t.Errorf("granted %+v", g)
	}
	tags := e.tagsOf(t, acct, region, arn)
	if tags["steward:exception"] != "2026-03-30;audit" || tags["Name"] != "data" {
		t.Fatalf("tags = %v", tags)
	}
	// The task sees it, for its playbook; for another playbook the mirror
	// tag does not count.
	in := `{"Resource": "` + arn + `", "Tags": {"steward:exception": "2026-03-30;audit"}}`
	if out := mustCall(t, tk, ResourceException, in, ""); out["Excepted"] != true || out["Source"] != "store" {
		t.Errorf("own playbook: %v", out)
	}
	other := New(Deps{Cloud: e.cloud, Clock: e.clock, Exceptions: db, Logf: e.logs.Logf})
	got, err := other.Exception(ctx, callFor("arn:aws:states:us-east-1:111111111111:execution:sg-open:run-9", in))
	if err != nil || got.(map[string]any)["Excepted"] != false {
		t.Errorf("other playbook: %v %v", got, err)
	}

	if _, err := tk.RevokeException(ctx, g.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if tags := e.tagsOf(t, acct, region, arn); tags["steward:exception"] != "" || tags["Name"] != "data" {
		t.Errorf("after revoke: %v", tags)
	}
	if _, err := tk.RevokeException(ctx, g.ID, "bob"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second revoke: %v", err)
	}
}

func TestGrantPolicy(t *testing.T) {
	e := newEnv(t)
	db := openStore(t)
	tk := e.tasks(func(d *Deps) { d.Exceptions = db })
	ctx := context.Background()
	e.seedVolume(t, "vol-1", nil)
	if err := e.sim.AddResources(acct2, region, awssimVolume("vol-p")); err != nil {
		t.Fatal(err)
	}
	dev, prod := volARN("vol-1"), "arn:aws:ec2:us-east-1:"+acct2+":volume/vol-p"
	cases := []struct {
		name     string
		resource string
		until    time.Time
		by       string
		want     error
	}{
		{"a month in development", dev, t0.AddDate(0, 1, 0), "a", nil},
		{"a year in development", dev, t0.AddDate(1, 0, 0), "a", ErrExceptionTooLong},
		{"a year in production", prod, t0.AddDate(1, 0, 0), "a", nil},
		{"two years in production", prod, t0.AddDate(2, 0, 0), "a", ErrExceptionTooLong},
		{"in the past", dev, t0.Add(-time.Hour), "a", ErrExceptionInvalid},
		{"nobody", dev, t0.AddDate(0, 0, 7), " ", ErrExceptionInvalid},
		{"not an ARN", "vol-1", t0.AddDate(0, 0, 7), "a", ErrExceptionInvalid},
	}
	for _, c := range cases {
		_, err := tk.GrantException(ctx, store.Exception{Resource: c.resource, Until: c.until, GrantedBy: c.by}, ExceptionPolicy{})
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A resource steward cannot tag: nothing stays granted.
	_, err := tk.GrantException(ctx, store.Exception{Resource: volARN("vol-gone"), Until: t0.AddDate(0, 0, 7), GrantedBy: "a"}, ExceptionPolicy{})
	if err == nil {
		t.Fatal("granted on a missing volume")
	}
	if _, err := db.ActiveException(ctx, volARN("vol-gone"), "", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed grant stayed in force: %v", err)
	}
	t.Logf("missing volume: %v", err)
}

func TestRecheckExpired(t *testing.T) {
	e := newEnv(t)
	db := openStore(t)
	tk := e.tasks(func(d *Deps) { d.Exceptions = db })
	ctx := context.Background()
	e.seedVolume(t, "vol-1", nil)
	e.seedVolume(t, "vol-2", nil)
	g1, err := tk.GrantException(ctx, store.Exception{Resource: volARN("vol-1"), Playbook: "ebs-unused", Until: t0.AddDate(0, 0, 7), GrantedBy: "a"}, ExceptionPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.GrantException(ctx, store.Exception{Resource: volARN("vol-2"), Until: t0.AddDate(0, 0, 7), GrantedBy: "a"}, ExceptionPolicy{}); err != nil {
		t.Fatal(err)
	}
	var rechecked []string
	fail := true
	recheck := func(_ context.Context, ex store.Exception) error {
		if fail {
			return errors.New("engine busy")
		}
		rechecked = append(rechecked, ex.Resource+" "+ex.Playbook)
		return nil
	}
	if n, err := tk.RecheckExpired(ctx, 10, recheck); n != 0 || err != nil {
		t.Fatalf("before expiry: %d %v", n, err)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	// The one without a playbook is marked; the other waits for a recheck that works.
	if n, err := tk.RecheckExpired(ctx, 10, recheck); n != 1 || err == nil {
		t.Fatalf("failing recheck: %d %v", n, err)
	}
	fail = false
	if n, err := tk.RecheckExpired(ctx, 10, recheck); n != 1 || err != nil {
		t.Fatalf("recheck: %d %v", n, err)
	}
	if len(rechecked) != 1 || rechecked[0] != volARN("vol-1")+" ebs-unused" {
		t.Errorf("rechecked %v", rechecked)
	}
	if n, _ := tk.RecheckExpired(ctx, 10, recheck); n != 0 {
		t.Errorf("rechecked again: %d", n)
	}
	if g, _ := db.GetException(ctx, g1.ID); g.RecheckedAt.IsZero() {
		t.Errorf("not marked: %+v", g)
	}
	if tags := e.tagsOf(t, acct, region, volARN("vol-1")); tags["steward:exception"] != "" {
		t.Errorf("expired tag left: %v", tags)
	}
}
