package builtin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/notify/webhook"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/task"
)

// hook is a webhook receiver on 127.0.0.1.
type hook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	payloads []webhook.Payload
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p webhook.Payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.payloads = append(h.payloads, p)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.payloads...)
}

// plans records planned notices as internal/change would.
type plans struct {
	mu    sync.Mutex
	calls []*task.Call
	plans []Plan
}

func (p *plans) RecordPlan(_ context.Context, call *task.Call, pl Plan) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
	p.plans = append(p.plans, pl)
	return "ch-1", nil
}

const notifyInput = `{"Subject": "EBS volume unattached for 46 days", "Summary": "vol-1 (8 GiB) has not been attached since 2026-01-14.",
	"Resource": "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "Owner": "arn:aws:iam::111111111111:role/ci", "Action": "snapshot and delete the volume", "Severity": "low"}`

func TestNotifyThroughWebhookFallback(t *testing.T) {
	e := newEnv(t)
	h := newHook(t)
	to := notify.Recipient{Kind: notify.KindWebhook, Address: h.srv.URL + "/hook"}
	tk := e.tasks(func(d *Deps) {
		d.Notifier = notify.Mux{notify.KindWebhook: webhook.New(webhook.Config{Now: e.clock.Now})}
		d.Router = notify.NewRouter(notify.RouterConfig{Fallback: map[string][]notify.Recipient{"development": {to}}})
		d.Stages = stage.Fixed(stage.Enforce)
	})
	out := mustCall(t, tk, ResourceNotify, notifyInput, "")
	if !reflect.DeepEqual(out["Notified"], []any{to.String()}) || out["Planned"] != false {
		t.Errorf("out = %v", out)
	}
	got := h.got()
	if len(got) != 1 || len(got[0].Notices) != 1 {
		t.Fatalf("webhook got %d deliveries: %+v", len(got), got)
	}
	n := got[0].Notices[0]
	if n.Title != "EBS volume unattached for 46 days" || n.Action != "snapshot and delete the volume" || n.Playbook != "ebs-unused" ||
		n.ExecutionARN != execARN || n.AccountClass != "development" || len(n.Resources) != 1 || n.Resources[0].ID != "vol-1" ||
		n.Resources[0].Account != acct || n.Owner.Raw != "arn:aws:iam::111111111111:role/ci" || !strings.Contains(n.Note, "Unknown owner") ||
		!strings.Contains(n.Note, "Severity: low") {
		t.Errorf("notice = %+v", n)
	}
	if !strings.Contains(got[0].Text, "vol-1") {
		t.Errorf("text = %q", got[0].Text)
	}
}

func TestNotifyLogNotifier(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil) // no notifier, no router
	in := strings.Replace(notifyInput, "arn:aws:iam::111111111111:role/ci", "Alice@Example.com", 1)
	out := mustCall(t, tk, ResourceNotify, in, "")
	if !reflect.DeepEqual(out["Notified"], []any{"email:alice@example.com"}) {
		t.Errorf("out = %v", out)
	}
	if len(e.logs.lines) != 1 || !strings.HasPrefix(e.logs.lines[0], "notice {") {
		t.Fatalf("log = %q", e.logs.lines)
	}
	var line struct {
		To     notify.Recipient `json:"to"`
		Notice notify.Notice    `json:"notice"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(e.logs.lines[0], "notice ")), &line); err != nil {
		t.Fatal(err)
	}
	if line.To.Address != "alice@example.com" || line.Notice.Title != "EBS volume unattached for 46 days" {
		t.Errorf("logged %+v", line)
	}
	// An owner that is not an address still reaches the log.
	e.logs.lines = nil
	out = mustCall(t, tk, ResourceNotify, notifyInput, "")
	if len(e.logs.lines) != 1 || !reflect.DeepEqual(out["Notified"], []any{"log:steward"}) {
		t.Errorf("unrouted: %v, log %q", out, e.logs.lines)
	}
}

func TestNotifyObservePlansAndSendsNothing(t *testing.T) {
	e := newEnv(t)
	h := newHook(t)
	to := notify.Recipient{Kind: notify.KindWebhook, Address: h.srv.URL}
	for _, c := range []struct {
		name, configured, execInput string
	}{
		{"observe configured", "observe", ""},
		{"dry run of an enforce playbook", "enforce", `{"account": "111111111111", "region": "us-east-1", "steward": {"stage": "observe"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &plans{}
			tk := e.tasks(func(d *Deps) {
				d.Notifier = notify.Mux{notify.KindWebhook: webhook.New(webhook.Config{})}
				d.Router = notify.NewRouter(notify.RouterConfig{Fallback: map[string][]notify.Recipient{"": {to}}})
				d.Stages = stage.Fixed(stage.Stage(c.configured))
				d.Plans = p
			})
			out := mustCall(t, tk, ResourceNotify, notifyInput, c.execInput)
			if out["Planned"] != true || out["ChangeId"] != "ch-1" || len(out["Notified"].([]any)) != 0 {
				t.Errorf("out = %v", out)
			}
			if len(p.plans) != 1 || p.plans[0].Kind != "notice" || p.plans[0].Resource != "arn:aws:ec2:us-east-1:111111111111:volume/vol-1" || p.calls[0].ExecutionID != execARN {
				t.Fatalf("plans = %+v", p.plans)
			}
			var n notify.Notice
			if err := json.Unmarshal(p.plans[0].Parameters, &n); err != nil || n.Title != "EBS volume unattached for 46 days" {
				t.Errorf("planned notice %s: %v", p.plans[0].Parameters, err)
			}
			if got := h.got(); len(got) != 0 {
				t.Errorf("sent in observe: %+v", got)
			}
		})
	}
	// The notify stage sends.
	tk := e.tasks(func(d *Deps) {
		d.Notifier = notify.Mux{notify.KindWebhook: webhook.New(webhook.Config{})}
		d.Router = notify.NewRouter(notify.RouterConfig{Fallback: map[string][]notify.Recipient{"": {to}}})
		d.Stages = stage.Fixed(stage.Notify)
		d.Plans = &plans{}
	})
	if out := mustCall(t, tk, ResourceNotify, notifyInput, ""); out["Planned"] != false || len(h.got()) != 1 {
		t.Errorf("notify stage: %v, %d deliveries", out, len(h.got()))
	}
}

func TestNotifyBadInput(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	for _, in := range []string{`{}`, `{"Subject": 3}`, `"text"`} {
		if _, err := call(t, tk, ResourceNotify, in, ""); aslName(err) != ErrInvalidInput {
			t.Errorf("%s: %v", in, err)
		}
	}
	// A webhook that refuses: the task fails, naming the recipient.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer srv.Close()
	tk = e.tasks(func(d *Deps) {
		d.Notifier = notify.Mux{notify.KindWebhook: webhook.New(webhook.Config{})}
		d.Router = notify.NewRouter(notify.RouterConfig{Fallback: map[string][]notify.Recipient{"": {{Kind: notify.KindWebhook, Address: srv.URL}}}})
	})
	if _, err := call(t, tk, ResourceNotify, notifyInput, ""); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("refused: %v", err)
	}
}

// TestAlertReachesTheFallback: an alert about steward itself (a playbook
// paused by its blast radius) goes to the default fallback recipients and
// to the log.
func TestAlertReachesTheFallback(t *testing.T) {
	e := newEnv(t)
	h := newHook(t)
	to := notify.Recipient{Kind: notify.KindWebhook, Address: h.srv.URL + "/hook"}
	tk := e.tasks(func(d *Deps) {
		d.Notifier = notify.Mux{notify.KindWebhook: webhook.New(webhook.Config{Now: e.clock.Now})}
		d.Router = notify.NewRouter(notify.RouterConfig{Fallback: map[string][]notify.Recipient{"": {to}}})
	})
	if err := tk.Alert(context.Background(), "ebs-unused", "steward paused playbook ebs-unused", "blast radius: 25 changes applied in run scan-1, the limit is 25 per run"); err != nil {
		t.Fatal(err)
	}
	got := h.got()
	if len(got) != 1 || len(got[0].Notices) != 1 || got[0].Notices[0].Title != "steward paused playbook ebs-unused" ||
		!strings.Contains(got[0].Notices[0].Detail, "limit is 25 per run") {
		t.Fatalf("webhook got %+v", got)
	}
	if !strings.Contains(strings.Join(e.logs.lines, "\n"), "steward paused playbook ebs-unused") {
		t.Errorf("the alert is not in the log: %s", strings.Join(e.logs.lines, "\n"))
	}
}
