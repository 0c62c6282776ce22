package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunExceptions is the conformance suite of store.ExceptionStore.
func RunExceptions(t *testing.T, open func(t *testing.T) store.ExceptionStore) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 9, 30, 0, 123_000_000, time.UTC)
	const vol = "arn:aws:ec2:us-east-1:111111111111:volume/vol-1"
	const vol2 = "arn:aws:ec2:us-east-1:111111111111:volume/vol-2"
	grant := func(t *testing.T, s store.ExceptionStore, e store.Exception) store.Exception {
		t.Helper()
		if e.GrantedAt.IsZero() {
			e.GrantedAt = now
		}
		got, err := s.GrantException(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("grant, get and round-trip every field", func(t *testing.T) {
		s := open(t)
		in := store.Exception{Resource: vol, Account: "111111111111", Region: "us-east-1", Playbook: "ebs-unused",
			Until: now.Add(30 * 24 * time.Hour), Reason: "kept for the audit", GrantedBy: "alice@example.com", Channel: "cli", GrantedAt: now}
		g := grant(t, s, in)
		if g.ID == "" {
			t.Fatal("no id assigned")
		}
		got, err := s.GetException(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		in.ID = g.ID
		if got != in || g != in {
			t.Errorf("got %+v\ngranted %+v\nwant %+v", got, g, in)
		}
		if _, err := s.GetException(ctx, "exc-nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
		if _, err := s.GrantException(ctx, in); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same id again: %v, want ErrConflict", err)
		}
	})

	t.Run("active: until is exclusive, playbook scoping, longest wins", func(t *testing.T) {
		s := open(t)
		short := grant(t, s, store.Exception{Resource: vol, Playbook: "ebs-unused", Until: now.Add(time.Hour), GrantedBy: "a"})
		all := grant(t, s, store.Exception{Resource: vol, Until: now.Add(2 * time.Hour), GrantedBy: "b"})
		other := grant(t, s, store.Exception{Resource: vol2, Playbook: "sg-open", Until: now.Add(3 * time.Hour), GrantedBy: "c"})
		cases := []struct {
			resource, playbook string
			at                 time.Time
			want               string // id, "" for ErrNotFound
		}{
			{vol, "ebs-unused", now, all.ID},
			{vol, "ebs-unused", now.Add(90 * time.Minute), all.ID},
			{vol, "sg-open", now, all.ID},
			{vol, "", now, all.ID},
			{vol, "ebs-unused", now.Add(2 * time.Hour), ""},
			{vol2, "sg-open", now.Add(3*time.Hour - time.Millisecond), other.ID},
			{vol2, "sg-open", now.Add(3 * time.Hour), ""},
			{vol2, "ebs-unused", now, ""},
			{vol2, "", now, other.ID},
			{"arn:aws:ec2:us-east-1:111111111111:volume/vol-3", "", now, ""},
		}
		for _, c := range cases {
			got, err := s.ActiveException(ctx, c.resource, c.playbook, c.at)
			if c.want == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s %q at %s: %+v %v, want ErrNotFound", c.resource, c.playbook, c.at, got, err)
				}
				continue
			}
			if err != nil || got.ID != c.want {
				t.Errorf("%s %q at %s: %s %v, want %s", c.resource, c.playbook, c.at, got.ID, err, c.want)
			}
		}
		// Revoking the longest leaves the shorter one in force.
		if _, err := s.RevokeException(ctx, all.ID, "carol", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ActiveException(ctx, vol, "ebs-unused", now.Add(2*time.Minute)); err != nil || got.ID != short.ID {
			t.Errorf("after revoke: %s %v, want %s", got.ID, err, short.ID)
		}
		if _, err := s.ActiveException(ctx, vol, "sg-open", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after revoke, other playbook: %v, want ErrNotFound", err)
		}
	})

	t.Run("revoke once", func(t *testing.T) {
		s := open(t)
		g := grant(t, s, store.Exception{Resource: vol, Until: now.Add(time.Hour), GrantedBy: "a"})
		at := now.Add(time.Minute)
		r, err := s.RevokeException(ctx, g.ID, "bob", at)
		if err != nil || !r.RevokedAt.Equal(at) || r.RevokedBy != "bob" || r.ID != g.ID {
			t.Fatalf("revoke: %+v %v", r, err)
		}
		if _, err := s.RevokeException(ctx, g.ID, "eve", at.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second revoke: %v, want ErrConflict", err)
		}
		if got, _ := s.GetException(ctx, g.ID); got.RevokedBy != "bob" || !got.RevokedAt.Equal(at) {
			t.Errorf("after second revoke: %+v", got)
		}
		if _, err := s.RevokeException(ctx, "exc-nope", "bob", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})

	t.Run("list filters, newest first", func(t *testing.T) {
		s := open(t)
		a := grant(t, s, store.Exception{Resource: vol, Account: "111111111111", Playbook: "ebs-unused", Until: now.Add(time.Hour), GrantedBy: "a", GrantedAt: now})
		b := grant(t, s, store.Exception{Resource: vol2, Account: "222222222222", Until: now.Add(time.Hour), GrantedBy: "b", GrantedAt: now.Add(time.Second)})
		c := grant(t, s, store.Exception{Resource: vol, Account: "111111111111", Playbook: "sg-open", Until: now.Add(time.Minute), GrantedBy: "c", GrantedAt: now.Add(2 * time.Second)})
		if _, err := s.RevokeException(ctx, b.ID, "x", now.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		ids := func(f store.ExceptionFilter) []string {
			l, err := s.ListExceptions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, e := range l {
				out = append(out, e.ID)
			}
			return out
		}
		cases := []struct {
			name string
			f    store.ExceptionFilter
			want []string
		}{
			{"all", store.ExceptionFilter{}, []string{c.ID, b.ID, a.ID}},
			{"resource", store.ExceptionFilter{Resource: vol}, []string{c.ID, a.ID}},
			{"account", store.ExceptionFilter{Account: "222222222222"}, []string{b.ID}},
			{"playbook covers all-playbook ones", store.ExceptionFilter{Playbook: "ebs-unused"}, []string{b.ID, a.ID}},
			{"active", store.ExceptionFilter{ActiveAt: now.Add(5 * time.Minute)}, []string{a.ID}},
			{"limit", store.ExceptionFilter{Limit: 2}, []string{c.ID, b.ID}},
		}
		for _, tc := range cases {
			if got := ids(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("expired, unrevoked, unrechecked; marked once looked at", func(t *testing.T) {
		s := open(t)
		e1 := grant(t, s, store.Exception{Resource: vol, Until: now.Add(time.Hour), GrantedBy: "a"})
		e2 := grant(t, s, store.Exception{Resource: vol2, Until: now.Add(30 * time.Minute), GrantedBy: "a"})
		rv := grant(t, s, store.Exception{Resource: vol2, Until: now.Add(10 * time.Minute), GrantedBy: "a"})
		grant(t, s, store.Exception{Resource: vol2, Until: now.Add(5 * time.Hour), GrantedBy: "a"})
		if _, err := s.RevokeException(ctx, rv.ID, "x", now); err != nil {
			t.Fatal(err)
		}
		got, err := s.ExpiredUnchecked(ctx, now.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != e2.ID || got[1].ID != e1.ID {
			t.Fatalf("expired: %+v, want %s then %s", got, e2.ID, e1.ID)
		}
		if got, _ := s.ExpiredUnchecked(ctx, now.Add(time.Hour), 1); len(got) != 1 || got[0].ID != e2.ID {
			t.Errorf("limit 1: %+v", got)
		}
		at := now.Add(61 * time.Minute)
		if err := s.MarkRechecked(ctx, e2.ID, at); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ExpiredUnchecked(ctx, now.Add(time.Hour), 10); len(got) != 1 || got[0].ID != e1.ID {
			t.Errorf("after mark: %+v", got)
		}
		if g, _ := s.GetException(ctx, e2.ID); !g.RecheckedAt.Equal(at) {
			t.Errorf("rechecked at %v, want %v", g.RecheckedAt, at)
		}
		if err := s.MarkRechecked(ctx, "exc-nope", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})

	t.Run("concurrent grants and one revoke wins", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.GrantException(ctx, store.Exception{Resource: vol, Until: now.Add(time.Hour), GrantedBy: "a", GrantedAt: now}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		l, err := s.ListExceptions(ctx, store.ExceptionFilter{Resource: vol})
		if err != nil || len(l) != 16 {
			t.Fatalf("%d exceptions, %v; want 16", len(l), err)
		}
		var wins atomic.Int32
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RevokeException(ctx, l[0].ID, "x", now); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, store.ErrConflict) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d revokes succeeded, want 1", wins.Load())
		}
	})
}
