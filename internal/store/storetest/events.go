package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunEvents is the conformance suite of store.EventStore. open returns a
// fresh, empty store; the suite closes nothing (open should register
// cleanups).
func RunEvents(t *testing.T, open func(t *testing.T) store.EventStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ev := func(id, source string, at time.Time) store.Event {
		return store.Event{ID: id, Source: source, DetailType: "x", Account: "111122223333", Region: "eu-west-1", Time: at, Received: at, Via: "http", Body: []byte(`{"id":"` + id + `"}`)}
	}

	t.Run("append dedups by id and lists newest first", func(t *testing.T) {
		s := open(t)
		fresh, err := s.AppendEvents(ctx, []store.Event{ev("a", "aws.ec2", t0), ev("b", "aws.s3", t0.Add(time.Second))})
		if err != nil || !fresh[0] || !fresh[1] {
			t.Fatalf("append: %v %v", fresh, err)
		}
		fresh, err = s.AppendEvents(ctx, []store.Event{ev("b", "aws.s3", t0), ev("c", "aws.ec2", t0.Add(2*time.Second))})
		if err != nil || fresh[0] || !fresh[1] {
			t.Fatalf("append with a duplicate: %v %v", fresh, err)
		}
		list, _, err := s.ListEvents(ctx, store.ListEventsParams{})
		if err != nil || len(list) != 3 || list[0].ID != "c" || list[2].ID != "a" {
			t.Fatalf("list: %v %v", ids(list), err)
		}
		got, err := s.GetEvent(ctx, "a")
		if err != nil || string(got.Body) != `{"id":"a"}` || got.Source != "aws.ec2" || !got.Received.Equal(t0) || got.Processed {
			t.Errorf("get: %+v %v", got, err)
		}
		if _, err := s.GetEvent(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
		bySource, _, _ := s.ListEvents(ctx, store.ListEventsParams{Source: "aws.ec2"})
		since, _, _ := s.ListEvents(ctx, store.ListEventsParams{Since: t0.Add(time.Second)})
		if len(bySource) != 2 || len(since) != 2 {
			t.Errorf("filters: by source %v, since %v", ids(bySource), ids(since))
		}
		page1, next, _ := s.ListEvents(ctx, store.ListEventsParams{ListParams: store.ListParams{Limit: 2}})
		page2, _, _ := s.ListEvents(ctx, store.ListEventsParams{ListParams: store.ListParams{Limit: 2, NextToken: next}})
		if len(page1) != 2 || len(page2) != 1 || next == "" {
			t.Errorf("pages %v %v (next %q)", ids(page1), ids(page2), next)
		}
	})

	t.Run("complete records matches once and marks processed", func(t *testing.T) {
		s := open(t)
		s.AppendEvents(ctx, []store.Event{ev("a", "aws.ec2", t0), ev("b", "aws.ec2", t0)})
		pending, _, _ := s.ListEvents(ctx, store.ListEventsParams{Unprocessed: true, Ascending: true})
		if len(pending) != 2 {
			t.Fatalf("unprocessed: %v", ids(pending))
		}
		m := []store.EventMatch{{Rule: "r1", Playbook: "p", ExecutionARN: "arn:1", At: t0}, {Rule: "r2", Skipped: true, Reason: "threshold", At: t0}}
		if err := s.CompleteEvent(ctx, pending[0].Seq, m); err != nil {
			t.Fatal(err)
		}
		m[0].ExecutionARN = "arn:other"
		if err := s.CompleteEvent(ctx, pending[0].Seq, m); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListMatches(ctx, pending[0].Seq)
		if err != nil || len(got) != 2 || got[0].ExecutionARN != "arn:1" || !got[1].Skipped {
			t.Errorf("matches %+v %v", got, err)
		}
		left, _, _ := s.ListEvents(ctx, store.ListEventsParams{Unprocessed: true})
		byRule, _, _ := s.ListEvents(ctx, store.ListEventsParams{Rule: "r1"})
		if len(left) != 1 || left[0].ID != "b" || len(byRule) != 1 || byRule[0].ID != "a" {
			t.Errorf("after completing a: unprocessed %v, by rule %v", ids(left), ids(byRule))
		}
		after, _, _ := s.ListEvents(ctx, store.ListEventsParams{AfterSeq: pending[0].Seq})
		if len(after) != 1 || after[0].ID != "b" {
			t.Errorf("after seq: %v", ids(after))
		}
		if err := s.CompleteEvent(ctx, 999999, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("complete unknown: %v", err)
		}
	})

	t.Run("threshold counts within the window", func(t *testing.T) {
		s := open(t)
		var got []int
		for i, min := range []int{0, 1, 2, 20, 21} {
			n, err := s.ObserveThreshold(ctx, "r", "alice", fmt.Sprint("e", i), t0.Add(time.Duration(min)*time.Minute), 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		other, _ := s.ObserveThreshold(ctx, "r", "bob", "e9", t0.Add(21*time.Minute), 15*time.Minute)
		again, _ := s.ObserveThreshold(ctx, "r", "alice", "e4", t0.Add(21*time.Minute), 15*time.Minute)
		if fmt.Sprint(got) != "[1 2 3 1 2]" || other != 1 || again != 2 {
			t.Errorf("counts %v, bob %d, alice's last event again %d", got, other, again)
		}
	})

	t.Run("rules", func(t *testing.T) {
		s := open(t)
		if err := s.PutRule(ctx, store.StoredRule{Name: "b", Doc: []byte(`{"v":1}`), Updated: t0}); err != nil {
			t.Fatal(err)
		}
		s.PutRule(ctx, store.StoredRule{Name: "a", Doc: []byte(`{}`), Updated: t0})
		s.PutRule(ctx, store.StoredRule{Name: "b", Doc: []byte(`{"v":2}`), Updated: t0})
		list, err := s.ListRules(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "a" || string(list[1].Doc) != `{"v":2}` {
			t.Errorf("rules %+v %v", list, err)
		}
		if err := s.DeleteRule(ctx, "a"); err != nil {
			t.Error(err)
		}
		if err := s.DeleteRule(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
	})

	t.Run("concurrent appends all commit", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					batch := []store.Event{ev(fmt.Sprintf("w%d-%d-a", w, i), "s", t0), ev(fmt.Sprintf("w%d-%d-b", w, i), "s", t0)}
					if _, err := s.AppendEvents(ctx, batch); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		all, _, _ := s.ListEvents(ctx, store.ListEventsParams{ListParams: store.ListParams{Limit: 10000}})
		if len(all) != 800 {
			t.Errorf("%d events stored, want 800", len(all))
		}
	})
}

func ids(events []store.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}
