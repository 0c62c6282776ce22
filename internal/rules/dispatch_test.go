package rules

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

// recordingStarter plays the engine's StartExecution with Step Functions'
// name idempotency, and can be told to fail.
type recordingStarter struct {
	mu      sync.Mutex
	started map[string]string // name -> input
	calls   int
	failAt  int // fail the n-th call (1-based); 0 never
}

func (r *recordingStarter) StartPlaybook(_ context.Context, playbook, name string, input []byte) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.failAt == r.calls {
		return "", errors.New("engine unavailable")
	}
	if r.started == nil {
		r.started = map[string]string{}
	}
	if prev, ok := r.started[name]; ok && prev != string(input) {
		return "", errors.New("ExecutionAlreadyExists")
	}
	r.started[name] = string(input)
	return "arn:aws:states:us-east-1:000000000000:execution:" + playbook + ":" + name, nil
}

func openStore(t *testing.T) *storesqlite.DB {
	t.Helper()
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDispatcherStartsOncePerEventAndRule(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	s := loadCatalogue(t)
	events := eventFiles(t)
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var batch []store.Event
	for i, name := range []string{
		"raw/DeleteBucket__panther__an-s3-bucket-was-deleted.json",
		"raw/AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
		"raw/ConsoleLogin__awsdocs__signin-example-1.json",
	} {
		batch = append(batch, store.Event{ID: fmt.Sprint("ev-", i), Source: "test", Received: t0, Time: t0, Via: "test", Body: events[name]})
	}
	batch = append(batch, store.Event{ID: "not-an-object", Source: "test", Received: t0, Time: t0, Via: "test", Body: []byte(`[1,2]`)})
	if _, err := db.AppendEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	starter := &recordingStarter{failAt: 2}
	d := &Dispatcher{Events: db, Rules: s, Starter: starter}
	n, err := d.ProcessPending(ctx)
	if err == nil || n != 1 {
		t.Fatalf("with the engine failing on the second start: processed %d, err %v", n, err)
	}
	// The failed event is still pending; the next pass finishes the rest.
	n, err = d.ProcessPending(ctx)
	if err != nil || n != 3 {
		t.Fatalf("second pass: processed %d, err %v", n, err)
	}
	if len(starter.started) != 2 {
		t.Errorf("executions %v, want one for the DeleteBucket and one for the open ingress", starter.started)
	}
	left, _, _ := db.ListEvents(ctx, store.ListEventsParams{Unprocessed: true})
	if len(left) != 0 {
		t.Errorf("unprocessed after dispatch: %d", len(left))
	}
	all, _, _ := db.ListEvents(ctx, store.ListEventsParams{Ascending: true})
	m, _ := db.ListMatches(ctx, all[0].Seq)
	if len(m) != 1 || m[0].Rule != "s3-dangling-dns" || m[0].ExecutionARN == "" {
		t.Errorf("matches of the DeleteBucket event: %+v", m)
	}
	m, _ = db.ListMatches(ctx, all[3].Seq)
	if len(m) != 1 || !m[0].Skipped {
		t.Errorf("the non-object event: %+v", m)
	}
	byRule, _, _ := db.ListEvents(ctx, store.ListEventsParams{Rule: "sg-open-ingress"})
	if len(byRule) != 1 {
		t.Errorf("events matched by sg-open-ingress: %d", len(byRule))
	}
}

func TestDispatcherThresholdSurvivesReprocessing(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	s := loadCatalogue(t)
	body := eventFiles(t)["raw/RunInstances__custodian__event-cloud-trail-run-instance-creator-assumed.json"]
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var batch []store.Event
	for i := 0; i < 7; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		batch = append(batch, store.Event{ID: fmt.Sprint("run-", i), Source: "aws.ec2", Received: at, Time: at, Via: "test", Body: body})
	}
	db.AppendEvents(ctx, batch)
	// The engine fails on the 4th start: events 0-2 complete, 3 stays.
	starter := &recordingStarter{failAt: 4}
	d := &Dispatcher{Events: db, Rules: s, Starter: starter}
	if _, err := d.ProcessPending(ctx); err == nil {
		t.Fatal("want the engine's failure")
	}
	if _, err := d.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	// Five launches start the playbook; the 6th and 7th are over the
	// threshold. Event 3 was observed twice but counted once.
	if len(starter.started) != 5 {
		t.Errorf("%d executions, want 5", len(starter.started))
	}
	all, _, _ := db.ListEvents(ctx, store.ListEventsParams{Ascending: true})
	for i, ev := range all {
		m, _ := db.ListMatches(ctx, ev.Seq)
		if len(m) != 1 || m[0].Skipped != (i >= 5) {
			t.Errorf("event %d: %+v", i, m)
		}
	}
}

func TestExecutionName(t *testing.T) {
	a := ExecutionName("ev-1", "s3-dangling-dns", "s3-dangling-dns")
	if a != ExecutionName("ev-1", "s3-dangling-dns", "s3-dangling-dns") || a == ExecutionName("ev-2", "s3-dangling-dns", "s3-dangling-dns") {
		t.Error("names must be stable per event and differ between events")
	}
	long := ExecutionName("e", "a rule with spaces and a very long name that goes on and on beyond eighty characters", "p")
	if len(long) > 80 || unsafeName.MatchString(long) {
		t.Errorf("name %q", long)
	}
}
