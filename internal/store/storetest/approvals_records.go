package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunApprovals is the conformance suite of store.ApprovalStore.
func RunApprovals(t *testing.T, open func(t *testing.T) store.ApprovalStore) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sample := func(id string) *store.Approval {
		return &store.Approval{
			ID: id, ExecutionARN: "arn:aws:states:us-east-1:000000000000:execution:pb:" + id, StateName: "Ask",
			TaskToken: "tok-" + id, Playbook: "pb", Account: "111111111111", Region: "eu-west-1",
			Resource: "arn:aws:ec2:eu-west-1:111111111111:volume/vol-1", Owner: "alice@example.com",
			Choices: []string{"approve", "exception-month", "deny"}, Default: "approve",
			Deadline: base.Add(48 * time.Hour), NextReminder: base.Add(24 * time.Hour),
			Notice: []byte(`{"Subject":"s"}`), CreatedAt: base,
		}
	}

	t.Run("create is idempotent and get returns what was stored", func(t *testing.T) {
		s := open(t)
		a, created, err := s.CreateApproval(ctx, sample("a1"))
		if err != nil || !created {
			t.Fatalf("create: created=%v err=%v", created, err)
		}
		if a.Status != store.ApprovalPending || a.Owner != "alice@example.com" || len(a.Choices) != 3 ||
			!a.Deadline.Equal(base.Add(48*time.Hour)) || !a.CreatedAt.Equal(base) || string(a.Notice) != `{"Subject":"s"}` {
			t.Errorf("stored: %+v", a)
		}
		again := sample("a1")
		again.Owner = "bob@example.com"
		b, created, err := s.CreateApproval(ctx, again)
		if err != nil || created || b.Owner != "alice@example.com" {
			t.Errorf("second create: created=%v err=%v owner=%q", created, err, b.Owner)
		}
		if _, err := s.GetApproval(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
	})

	t.Run("exactly one decision wins", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.CreateApproval(ctx, sample("a2")); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := s.DecideApproval(ctx, "a2", store.ApprovalDecision{Decision: "approve", DecidedBy: fmt.Sprint("p", i), Channel: "cli", DecidedAt: base})
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d decisions won, want 1", wins.Load())
		}
		a, err := s.GetApproval(ctx, "a2")
		if err != nil || a.Status != store.ApprovalDecided || a.Decision != "approve" || a.DecidedBy == "" || !a.DecidedAt.Equal(base) || !a.NextReminder.IsZero() {
			t.Errorf("after decide: %+v %v", a, err)
		}
		if _, err := s.DecideApproval(ctx, "missing", store.ApprovalDecision{Decision: "deny"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("decide unknown: %v", err)
		}
	})

	t.Run("an exception keeps its end and reason", func(t *testing.T) {
		s := open(t)
		s.CreateApproval(ctx, sample("a3"))
		until := base.AddDate(0, 1, 0)
		a, err := s.DecideApproval(ctx, "a3", store.ApprovalDecision{Decision: "exception", DecidedBy: "bob", Channel: "slack", Reason: "migration", Until: until})
		if err != nil || !a.Until.Equal(until) || a.Reason != "migration" || a.Channel != "slack" {
			t.Errorf("%+v %v", a, err)
		}
	})

	t.Run("due lists deadlines and reminders that passed, pending only", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"d1", "d2", "d3"} {
			s.CreateApproval(ctx, sample(id))
		}
		s.SetReminder(ctx, "d2", 1, time.Time{})
		s.DecideApproval(ctx, "d3", store.ApprovalDecision{Decision: "deny"})
		cases := []struct {
			at   time.Time
			want []string
		}{
			{base.Add(time.Hour), nil},
			{base.Add(24 * time.Hour), []string{"d1"}},
			{base.Add(48 * time.Hour), []string{"d1", "d2"}},
		}
		for _, c := range cases {
			due, err := s.DueApprovals(ctx, c.at, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range due {
				got = append(got, a.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("due at %s: %v, want %v", c.at, got, c.want)
			}
		}
		a, _ := s.GetApproval(ctx, "d2")
		if a.RemindersSent != 1 || !a.NextReminder.IsZero() {
			t.Errorf("reminder: %+v", a)
		}
	})

	t.Run("unsent until notified; undelivered until delivered", func(t *testing.T) {
		s := open(t)
		a := sample("u1")
		a.SendAfter = base.Add(time.Minute)
		s.CreateApproval(ctx, a)
		s.CreateApproval(ctx, sample("u2"))
		ids := func(as []*store.Approval, err error) string {
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range as {
				out = append(out, a.ID)
			}
			return fmt.Sprint(out)
		}
		if got := ids(s.UnsentApprovals(ctx, base, 10)); got != "[u2]" {
			t.Errorf("unsent at base: %s", got)
		}
		if got := ids(s.UnsentApprovals(ctx, base.Add(time.Minute), 10)); got != "[u1 u2]" {
			t.Errorf("unsent a minute later: %s", got)
		}
		s.SetDelivery(ctx, "u2", store.ApprovalDelivery{NotifiedAt: base, Receipts: []byte(`[]`)})
		if got := ids(s.UnsentApprovals(ctx, base.Add(time.Minute), 10)); got != "[u1]" {
			t.Errorf("unsent after notifying u2: %s", got)
		}
		s.DecideApproval(ctx, "u2", store.ApprovalDecision{Decision: "approve", DecidedAt: base})
		if got := ids(s.ListApprovals(ctx, store.ApprovalFilter{Undelivered: true})); got != "[u2]" {
			t.Errorf("undelivered: %s", got)
		}
		if err := s.MarkDelivered(ctx, "u2", base, ""); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.ListApprovals(ctx, store.ApprovalFilter{Undelivered: true})); got != "[]" {
			t.Errorf("undelivered after delivery: %s", got)
		}
		b, _ := s.GetApproval(ctx, "u2")
		if !b.DeliveredAt.Equal(base) || !b.NotifiedAt.Equal(base) {
			t.Errorf("times: %+v", b)
		}
	})

	t.Run("list filters, receipts and errors", func(t *testing.T) {
		s := open(t)
		for i, id := range []string{"l1", "l2", "l3"} {
			a := sample(id)
			a.CreatedAt = base.Add(time.Duration(i) * time.Minute)
			if id == "l3" {
				a.Owner = "carol@example.com"
			}
			s.CreateApproval(ctx, a)
		}
		s.DecideApproval(ctx, "l1", store.ApprovalDecision{Decision: "deny"})
		all, _ := s.ListApprovals(ctx, store.ApprovalFilter{})
		if len(all) != 3 || all[0].ID != "l3" {
			t.Errorf("list all: %d, first %v", len(all), all)
		}
		pend, _ := s.ListApprovals(ctx, store.ApprovalFilter{Status: store.ApprovalPending})
		if len(pend) != 2 {
			t.Errorf("pending: %d", len(pend))
		}
		carol, _ := s.ListApprovals(ctx, store.ApprovalFilter{Owner: "carol@example.com"})
		if len(carol) != 1 {
			t.Errorf("by owner: %d", len(carol))
		}
		if err := s.SetDelivery(ctx, "l2", store.ApprovalDelivery{Receipts: []byte(`{"slack":{"ts":"1.2"}}`), SendAttempts: 2, SendAfter: base}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetApprovalError(ctx, "l2", "smtp down"); err != nil {
			t.Fatal(err)
		}
		a, _ := s.GetApproval(ctx, "l2")
		if string(a.Receipts) != `{"slack":{"ts":"1.2"}}` || a.LastError != "smtp down" || a.SendAttempts != 2 || !a.SendAfter.Equal(base) {
			t.Errorf("receipts/error: %+v", a)
		}
		if err := s.SetDelivery(ctx, "zz", store.ApprovalDelivery{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("receipts unknown: %v", err)
		}
		if err := s.SetReminder(ctx, "zz", 1, base); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("reminder unknown: %v", err)
		}
	})
}
