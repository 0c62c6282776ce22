package approval

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/notify/email"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
)

// TestDeadline: with no answer, the reminder goes out the day before the
// deadline, and at 48 hours the default (approve) fixes.
func TestDeadline(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, harnessOpts{noSlack: true, mailer: rec})
	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0fff", "alice"))
	a := h.approvals(exec, 1)[0]
	if !a.NextReminder.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("first reminder at %v", a.NextReminder)
	}
	h.tick()
	steps := []struct {
		at        time.Duration
		mails     int
		reminders int
		running   bool
	}{
		{time.Hour, 1, 0, true},
		{24*time.Hour - time.Minute, 1, 0, true},
		{24 * time.Hour, 2, 1, true},
		{47 * time.Hour, 2, 1, true},
		{48 * time.Hour, 2, 1, false},
	}
	for _, s := range steps {
		h.clk.Set(t0.Add(s.at))
		h.tick()
		msgs := rec.messages()
		if len(msgs) != s.mails {
			t.Fatalf("at +%v: %d mails, want %d", s.at, len(msgs), s.mails)
		}
		if s.reminders > 0 && msgs[len(msgs)-1].Notices[0].Reminder != s.reminders {
			t.Errorf("at +%v: reminder %d", s.at, msgs[len(msgs)-1].Notices[0].Reminder)
		}
		if !s.running {
			break
		}
		if st := h.status(exec); st != "RUNNING" {
			t.Fatalf("at +%v: %s", s.at, st)
		}
	}
	out := h.finished(exec)
	ap := out["approval"].(map[string]any)
	if out["outcome"] != "fixed" || ap["by"] != DeadlineBy || ap["decision"] != "approve" || h.fixes.Load() != 1 {
		t.Fatalf("output %v, fixes %d", out, h.fixes.Load())
	}
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if got.RemindersSent != 1 || got.Channel != "deadline" || !got.DecidedAt.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("recorded: %+v", got)
	}
}

// TestReminderSchedule: weekly reminders, and one the day before.
func TestReminderSchedule(t *testing.T) {
	s, _ := New(Config{Store: nilStore{}, Router: notify.NewRouter(notify.RouterConfig{})})
	day := 24 * time.Hour
	cases := []struct {
		deadline time.Duration
		want     []time.Duration
	}{
		{48 * time.Hour, []time.Duration{day}},
		{10 * day, []time.Duration{7 * day, 9 * day}},
		{15 * day, []time.Duration{7 * day, 14 * day}},
		{22 * day, []time.Duration{7 * day, 14 * day, 21 * day}},
		{30 * day, []time.Duration{7 * day, 14 * day, 21 * day, 28 * day, 29 * day}},
		{12 * time.Hour, nil},
	}
	for _, c := range cases {
		var got []time.Duration
		after := t0
		for i := 0; i < 10; i++ {
			n := s.nextReminder(t0, t0.Add(c.deadline), after)
			if n.IsZero() {
				break
			}
			got = append(got, n.Sub(t0))
			after = n
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("deadline %v: reminders at %v, want %v", c.deadline, got, c.want)
		}
	}
}

// nilStore satisfies the interface for tests of pure functions.
type nilStore struct{ store.ApprovalStore }

// TestSMTPDown: the SMTP server is down; the send is retried with backoff,
// the failure is visible on the approval, the execution keeps waiting;
// once the server is back the notice goes out and the decision works.
func TestSMTPDown(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true})
	live := h.smtp.mailer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dead, err := email.New(email.Config{Host: "127.0.0.1", Port: deadPort, From: "steward@example.com", Timeout: time.Second,
		Retry: notify.RetryPolicy{Attempts: 2, SleepFunc: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	h.mail.set(dead)

	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0999", "alice"))
	a := h.approvals(exec, 1)[0]
	h.tick()
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if got.LastError == "" || !got.NotifiedAt.IsZero() || got.SendAttempts != 1 || !got.SendAfter.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a failed send: %+v", got)
	}
	// Backoff: nothing is tried before SendAfter; then 2 minutes, ...
	h.clk.Set(t0.Add(30 * time.Second))
	h.tick()
	if got, _ = h.st.GetApproval(h.ctx, a.ID); got.SendAttempts != 1 {
		t.Errorf("retried before its time: %d", got.SendAttempts)
	}
	h.clk.Set(t0.Add(time.Minute))
	h.tick()
	if got, _ = h.st.GetApproval(h.ctx, a.ID); got.SendAttempts != 2 || !got.SendAfter.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("second failure: attempts %d, next %v", got.SendAttempts, got.SendAfter)
	}
	if h.status(exec) != "RUNNING" {
		t.Fatal("the execution must keep waiting")
	}
	// The server is back.
	h.mail.set(live)
	h.clk.Set(t0.Add(3 * time.Minute))
	h.tick()
	if got, _ = h.st.GetApproval(h.ctx, a.ID); got.NotifiedAt.IsZero() || got.LastError != "" {
		t.Fatalf("after the server came back: %+v", got)
	}
	ls := links(t, mailText(t, h.smtp.received()[0].Data))
	if p := confirm(t, ls["deny"], "alice"); p.Status != 200 {
		t.Fatalf("confirm: %d", p.Status)
	}
	if out := h.finished(exec); out["outcome"] != "kept" || h.fixes.Load() != 0 {
		t.Errorf("output %v", out)
	}
}

// TestEndedExecution: a decision for an execution that already ended is
// refused and recorded; nothing is sent.
func TestEndedExecution(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true, mailer: &recorder{}})
	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0888", "alice"))
	a := h.approvals(exec, 1)[0]
	h.tick()
	if _, err := h.e.StopExecution(h.ctx, exec, "Stopped", "by a test"); err != nil {
		t.Fatal(err)
	}
	h.eventually("stop", func() bool { return h.status(exec) == "ABORTED" })
	_, err := h.svc.Decide(h.ctx, DecideParams{ID: a.ID, Choice: approve.ChoiceApprove, By: "alice", Channel: "cli"})
	if !errors.Is(err, ErrNotPending) {
		t.Fatalf("decide: %v", err)
	}
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if got.Status != store.ApprovalCancelled || got.DecidedBy != "alice" || !strings.Contains(got.Reason, "ABORTED") {
		t.Errorf("recorded: %+v", got)
	}
	if h.fixes.Load() != 0 {
		t.Error("fixed")
	}
	// The deadline passes: nothing more happens.
	h.clk.Set(t0.Add(49 * time.Hour))
	if err := h.svc.Tick(h.ctx); err != nil {
		t.Errorf("tick: %v", err)
	}
}

// TestOneDecisionWins: concurrent decisions through every channel: one
// wins, the others are refused, the execution gets one answer.
func TestOneDecisionWins(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true, mailer: &recorder{}})
	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0777", "alice"))
	a := h.approvals(exec, 1)[0]
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := approve.ChoiceApprove
			if i%2 == 1 {
				c = approve.ChoiceDeny
			}
			_, err := h.svc.Decide(h.ctx, DecideParams{ID: a.ID, Choice: c, By: fmt.Sprint("p", i), Channel: "api"})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrNotPending) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d decisions won", wins)
	}
	out := h.finished(exec)
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if out["approval"].(map[string]any)["by"] != got.DecidedBy {
		t.Errorf("the execution got %v, the store says %s", out, got.DecidedBy)
	}
}

// TestStages: observe plans without asking; notify tells without asking.
func TestStages(t *testing.T) {
	for _, c := range []struct {
		stage    stage.Stage
		decision string
		mails    int
	}{{stage.Observe, "planned", 0}, {stage.Notify, "notified", 1}} {
		t.Run(string(c.stage), func(t *testing.T) {
			rec := &recorder{}
			h := newHarness(t, harnessOpts{noSlack: true, mailer: rec, stages: stage.Fixed(c.stage)})
			exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0666", "alice"))
			out := h.finished(exec)
			if out["approval"].(map[string]any)["decision"] != c.decision || out["outcome"] != "kept" {
				t.Errorf("output %v", out)
			}
			if n := len(rec.messages()); n != c.mails {
				t.Errorf("%d messages", n)
			}
			if list, _ := h.st.ListApprovals(h.ctx, store.ApprovalFilter{}); len(list) != 0 {
				t.Errorf("%d approvals recorded", len(list))
			}
		})
	}
	// A dry run asks for observe in the input: it lowers enforce.
	rec := &recorder{}
	h := newHarness(t, harnessOpts{noSlack: true, mailer: rec})
	in := volumeInput(devAccount, "vol-0555", "alice")
	in["steward"] = map[string]any{"stage": "observe"}
	if out := h.finished(h.start("ebs-unused", askThenFix, in)); out["approval"].(map[string]any)["decision"] != "planned" {
		t.Errorf("dry run: %v", out)
	}
}

// TestBatching: the approvals of one run for one owner go out as one
// message per recipient; an unknown owner goes to the fallback.
func TestBatching(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, harnessOpts{noSlack: true, mailer: rec, batch: 10 * time.Second})
	var res []any
	for i := 0; i < 5; i++ {
		res = append(res, fmt.Sprintf("arn:aws:ec2:eu-west-1:%s:volume/vol-%d", devAccount, i))
	}
	exec := h.start("ebs-many", askMany, map[string]any{"account": devAccount, "region": "eu-west-1", "owner": "alice", "resources": res})
	h.approvals(exec, 5)
	h.tick()
	if n := len(rec.messages()); n != 0 {
		t.Fatalf("sent before the window: %d", n)
	}
	h.clk.Set(t0.Add(10 * time.Second))
	h.tick()
	msgs := rec.messages()
	if len(msgs) != 1 || len(msgs[0].Notices) != 5 || msgs[0].To.Address != "alice@example.com" {
		t.Fatalf("messages: %d %+v", len(msgs), msgs)
	}
	h.tick()
	if len(rec.messages()) != 1 {
		t.Error("sent twice")
	}
	// The day before the deadline: one reminder for the five.
	h.clk.Set(t0.Add(24 * time.Hour))
	h.tick()
	msgs = rec.messages()
	if len(msgs) != 2 || len(msgs[1].Notices) != 5 || msgs[1].Notices[0].Reminder != 1 {
		t.Fatalf("reminders: %d messages, last with %d notices", len(msgs), len(msgs[len(msgs)-1].Notices))
	}
	// An unknown owner: the account class's fallback, with a note.
	exec2 := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0444", "arn:aws:sts::222222222222:assumed-role/ci/build"))
	h.approvals(exec2, 1)
	h.clk.Set(t0.Add(24*time.Hour + 30*time.Second))
	h.tick()
	msgs = rec.messages()
	last := msgs[len(msgs)-1]
	if last.To.Address != "security@example.com" || !strings.Contains(last.Notices[0].Note, "owner") {
		t.Errorf("fallback: %+v", last)
	}
}

// TestGrantFailsThenWorks: when the exception cannot be granted (its tag
// cannot be written), the decision stands, the playbook keeps waiting, and
// the loop grants and hands it over once it can: never an exception
// decision without its record.
func TestGrantFailsThenWorks(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true, mailer: &recorder{}})
	var fail atomic.Bool
	fail.Store(true)
	h.svc.cfg.GrantFunc = func(ctx context.Context, e store.Exception) (store.Exception, error) {
		if fail.Load() {
			return store.Exception{}, errors.New("tagging throttled")
		}
		return h.st.GrantException(ctx, e)
	}
	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0333", "alice"))
	a := h.approvals(exec, 1)[0]
	if _, err := h.svc.Decide(h.ctx, DecideParams{ID: a.ID, Choice: approve.ChoiceException1M, By: "alice", Channel: "cli", Reason: "migrating"}); err != nil {
		t.Fatal(err)
	}
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if got.Status != store.ApprovalDecided || !got.DeliveredAt.IsZero() || !strings.Contains(got.LastError, "throttled") || h.status(exec) != "RUNNING" {
		t.Fatalf("after a failed grant: %+v %s", got, h.status(exec))
	}
	h.tick()
	if h.status(exec) != "RUNNING" {
		t.Fatal("handed over without the exception")
	}
	fail.Store(false)
	h.tick()
	if out := h.finished(exec); out["outcome"] != "exception" {
		t.Fatalf("output %v", out)
	}
	h.tick()
	list, _ := h.st.ListExceptions(h.ctx, store.ExceptionFilter{Resource: a.Resource})
	if len(list) != 1 || list[0].ID != "exc-"+a.ID || list[0].Reason != "migrating" {
		t.Errorf("exceptions: %+v", list)
	}
}
