package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/demo"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/playbooks"
)

// runDemoUntilReport runs steward demo in process until it has printed
// its report, stops it, and returns what it printed and what its store
// holds.
func runDemoUntilReport(t *testing.T, stage string) (string, *demo.Report) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := &demoOutput{}
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, demoParams{addr: "127.0.0.1:0", dataDir: dir, stage: stage, settle: 45 * time.Second}, out, out)
	}()
	for !strings.Contains(out.String(), "keeps serving") {
		select {
		case err := <-done:
			t.Fatalf("demo ended before its report: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("no report in time:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	st, err := storesqlite.Open(filepath.Join(dir, storeFile), storesqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := demo.Collect(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), r
}

// TestDemo checks that the demo says it is simulated and that what it
// reports is what its store holds.
func TestDemo(t *testing.T) {
	text, r := runDemoUntilReport(t, "")
	t.Logf("demo output:\n%s", text)
	if !strings.HasPrefix(text, demoBanner) {
		t.Fatal("the demo must open by saying it is simulated")
	}
	c := r.Counts()
	want := map[string]int{
		`Events: (\d+) received`:     c.Events,
		`, (\d+) started a playbook`: c.EventsStarted,
		`Found: (\d+) resources`:     c.Executions,
		`Changes: (\d+) made`:        c.Applied,
		`, (\d+) planned`:            c.Planned,
		`Approvals waiting: (\d+)`:   c.Approvals,
	}
	for re, n := range want {
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("output lacks %q", re)
		}
		got, _ := strconv.Atoi(m[1])
		// Executions may still move after the report (a playbook waiting
		// on a timer); the store can only have more, never less.
		if got > n {
			t.Errorf("%s: printed %d, the store has %d", re, got, n)
		}
	}
	evs, _ := demo.Events(time.Now())
	if c.Events != len(evs) {
		t.Errorf("store has %d events, the demo sends %d", c.Events, len(evs))
	}
	if len(playbooks.All()) > 0 && (c.Executions == 0 || c.EventsStarted == 0) {
		t.Errorf("the catalogue has %d playbooks but the demo started %d executions (%d from events)", len(playbooks.All()), c.Executions, c.EventsStarted)
	}
	for _, e := range r.Executions {
		if e.Resource != "" && !strings.Contains(text, e.Resource) {
			t.Errorf("execution %s about %s is not in the report", e.Name, e.Resource)
		}
	}
	for _, ch := range r.Changes {
		if !strings.Contains(text, ch.ID) {
			t.Errorf("change %s is not in the report", ch.ID)
		}
	}
	fmt.Printf("demo: %d events (%d started a playbook), %d executions, %d changes made, %d planned, %d approvals waiting\n",
		c.Events, c.EventsStarted, c.Executions, c.Applied, c.Planned, c.Approvals)
}

// TestDemoObserve runs the demo in the observe stage: steward plans and
// changes nothing.
func TestDemoObserve(t *testing.T) {
	text, r := runDemoUntilReport(t, "observe")
	if !strings.Contains(text, "stage: observe in every account") {
		t.Fatalf("output does not name the stage:\n%s", text)
	}
	for _, ch := range r.Changes {
		if ch.Status != store.StatusPlanned {
			t.Errorf("observe stage, yet change %s %s:%s on %s is %s", ch.ID, ch.Service, ch.Action, ch.Resource, ch.Status)
		}
	}
	c := r.Counts()
	if len(playbooks.All()) > 0 && c.Planned == 0 {
		t.Errorf("observe stage planned nothing:\n%s", text)
	}
	t.Logf("observe: %d executions, %d changes planned, none made", c.Executions, c.Planned)
}

// demoOutput collects what the demo prints, safe to read while it writes.
type demoOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *demoOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *demoOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func TestDemoConfig(t *testing.T) {
	if _, err := demoConfig("yolo"); err == nil {
		t.Fatal("--stage yolo accepted")
	}
	for _, s := range []string{"", "enforce", "notify", "observe"} {
		b, err := demoConfig(s)
		if err != nil {
			t.Fatal(err)
		}
		if s != "" && !strings.Contains(string(b), "default: "+s) {
			t.Fatalf("--stage %s: %s", s, b)
		}
	}
}
