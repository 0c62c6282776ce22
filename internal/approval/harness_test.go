package approval

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/notify/email"
	"github.com/stewardhq/steward/internal/notify/slack"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// t0 is ahead of the real clock: the link store sweeps used links by real time.
var t0 = time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)

const (
	prodAccount  = "111111111111"
	devAccount   = "222222222222"
	slackSecret  = "test-signing-secret"
	smtpUser     = "steward"
	smtpPassword = "smtp-test-password"
)

// askThenFix is a small playbook: ask the owner, then fix (approve, or the
// deadline's default), keep (deny) or leave it (exception).
const askThenFix = `{
  "StartAt": "Ask",
  "States": {
    "Ask": {
      "Type": "Task", "Resource": "steward:approval.waitForTaskToken",
      "Parameters": {
        "Resource.$": "$.resource", "Owner.$": "$.owner",
        "Subject": "EBS volume unattached for 45 days",
        "Summary": "The volume has not been attached since January.",
        "Action": "snapshot the volume, then delete it",
        "Choices": ["approve", "exception-month", "exception-year", "deny"],
        "Default": "approve", "DeadlineSeconds": 172800,
        "TaskToken.$": "$$.Task.Token"
      },
      "TimeoutSeconds": 180000,
      "ResultPath": "$.approval",
      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Fix"}],
      "Next": "Decide"
    },
    "Decide": {
      "Type": "Choice",
      "Choices": [
        {"Variable": "$.approval.decision", "StringEquals": "approve", "Next": "Fix"},
        {"Variable": "$.approval.decision", "StringEquals": "exception", "Next": "Excepted"}
      ],
      "Default": "Kept"
    },
    "Fix": {"Type": "Task", "Resource": "steward:test-fix", "Parameters": {"Resource.$": "$.resource"}, "ResultPath": "$.fix", "Next": "Fixed"},
    "Fixed": {"Type": "Pass", "Parameters": {"outcome": "fixed", "approval.$": "$.approval"}, "End": true},
    "Excepted": {"Type": "Pass", "Parameters": {"outcome": "exception", "approval.$": "$.approval"}, "End": true},
    "Kept": {"Type": "Pass", "Parameters": {"outcome": "kept", "approval.$": "$.approval"}, "End": true}
  }
}`

// askMany asks about every resource of the input in one run (a Map).
const askMany = `{
  "StartAt": "Each",
  "States": {
    "Each": {
      "Type": "Map", "ItemsPath": "$.resources",
      "ItemSelector": {"resource.$": "$$.Map.Item.Value", "owner.$": "$.owner"},
      "ItemProcessor": {
        "StartAt": "Ask",
        "States": {
          "Ask": {
            "Type": "Task", "Resource": "steward:approval.waitForTaskToken",
            "Parameters": {"Resource.$": "$.resource", "Owner.$": "$.owner", "Subject": "Unused volume",
              "Action": "delete it", "TaskToken.$": "$$.Task.Token"},
            "End": true
          }
        }
      },
      "End": true
    }
  }
}`

type harness struct {
	t     *testing.T
	ctx   context.Context
	clk   *clock.Fake
	st    *storesqlite.DB
	e     *engine.Engine
	svc   *Service
	tasks *task.Registry
	web   *httptest.Server
	smtp  *smtpServer
	slack *fakeSlack
	mail  *switchNotifier
	fixes atomic.Int32
	tags  []store.Exception
	tagMu sync.Mutex
	logs  []string
	logMu sync.Mutex
}

type harnessOpts struct {
	stages    stage.Resolver
	noSlack   bool
	mailer    notify.Notifier // default: a real SMTP server
	batch     time.Duration
	reminders time.Duration
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clk: clock.NewFake(t0), tasks: task.NewRegistry()}
	st, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	task.RegisterBasics(h.tasks)
	h.tasks.Register("steward:test-fix", task.HandlerFunc(func(ctx context.Context, call *task.Call) (any, error) {
		h.fixes.Add(1)
		return map[string]any{"Fixed": true}, nil
	}))

	mux := http.NewServeMux()
	h.web = httptest.NewServer(mux)
	t.Cleanup(h.web.Close)

	h.mail = &switchNotifier{}
	if o.mailer != nil {
		h.mail.set(o.mailer)
	} else {
		h.smtp = startSMTP(t)
		h.mail.set(h.smtp.mailer(t))
	}
	mx := notify.Mux{notify.KindEmail: h.mail}
	rc := notify.RouterConfig{
		Owners:   map[string]string{"alice": "alice@example.com", "bob": "bob@example.com"},
		Fallback: map[string][]notify.Recipient{"": {{Kind: notify.KindEmail, Address: "security@example.com"}}},
	}
	if !o.noSlack {
		h.slack = startSlack(t)
		sc, err := slack.New(slack.Config{Token: "xoxb-test", BaseURL: h.slack.srv.URL, Retry: notify.RetryPolicy{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		mx[notify.KindSlack] = sc
		rc.Slack = sc
	}
	signer, err := approve.NewSigner(approve.SignerConfig{Key: []byte(strings.Repeat("k", 32)), BaseURL: h.web.URL, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	batch := o.batch
	if batch == 0 {
		batch = -1
	}
	h.svc, err = New(Config{
		Store: st, Notifier: mx, Router: notify.NewRouter(rc), Signer: signer, Clock: h.clk, Stages: o.stages,
		AccountClassFunc: func(a string) string {
			switch a {
			case prodAccount:
				return "production"
			case devAccount:
				return "development"
			}
			return ""
		},
		Exceptions: st,
		TagFunc: func(ctx context.Context, e store.Exception) error {
			h.tagMu.Lock()
			defer h.tagMu.Unlock()
			h.tags = append(h.tags, e)
			return nil
		},
		BatchWindow: batch, ReminderEvery: o.reminders,
		Logf: func(f string, args ...any) {
			h.logMu.Lock()
			h.logs = append(h.logs, f)
			h.logMu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	Register(h.tasks, h.svc)
	lh, err := approve.NewHandler(approve.HandlerConfig{Signer: signer, Used: st, Decide: h.svc.DecideFunc(), Describe: h.svc.Describe})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/approve/", lh)
	ih, err := slack.NewInteractionHandler(slack.InteractionConfig{SigningSecret: slackSecret, Decide: h.svc.DecideFunc(), Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/slack/interactions", ih)

	h.e = engine.New(engine.Config{Store: st, Tasks: h.tasks, Clock: h.clk, Owner: "approval-test", Random: func() float64 { return 0.5 }})
	if err := h.e.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.svc.SetEngine(h.e)
	t.Cleanup(func() {
		h.e.Close()
		st.Close()
	})
	return h
}

// start runs def with input and returns the execution ARN.
func (h *harness) start(name, def string, input map[string]any) string {
	h.t.Helper()
	sm, err := h.e.CreateStateMachine(h.ctx, engine.CreateStateMachineInput{Name: name, Definition: def})
	if err != nil && !errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		h.t.Fatal(err)
	}
	arn := h.e.StateMachineARN(name)
	if sm != nil {
		arn = sm.ARN
	}
	b, _ := json.Marshal(input)
	x, err := h.e.StartExecution(h.ctx, engine.StartExecutionInput{StateMachineARN: arn, Input: string(b)})
	if err != nil {
		h.t.Fatal(err)
	}
	return x.ARN
}

func volumeInput(account, vol, owner string) map[string]any {
	return map[string]any{"account": account, "region": "eu-west-1", "owner": owner,
		"resource": "arn:aws:ec2:eu-west-1:" + account + ":volume/" + vol}
}

// eventually polls cond (the engine and servers run in goroutines; the
// clock does not move).
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// approvals waits for n pending approvals of exec and returns them.
func (h *harness) approvals(exec string, n int) []*store.Approval {
	h.t.Helper()
	var list []*store.Approval
	h.eventually("approvals recorded", func() bool {
		var err error
		list, err = h.st.ListApprovals(h.ctx, store.ApprovalFilter{ExecutionARN: exec})
		if err != nil {
			h.t.Fatal(err)
		}
		return len(list) >= n
	})
	return list
}

func (h *harness) tick() {
	h.t.Helper()
	if err := h.svc.Tick(h.ctx); err != nil {
		h.t.Logf("tick: %v", err)
	}
}

// advance moves the clock and lets the engine fire what fell due.
func (h *harness) advance(d time.Duration) {
	h.clk.Advance(d)
}

func (h *harness) finished(exec string) map[string]any {
	h.t.Helper()
	var x *store.Execution
	h.eventually("execution "+exec+" to end", func() bool {
		var err error
		x, err = h.e.DescribeExecution(h.ctx, exec)
		if err != nil {
			h.t.Fatal(err)
		}
		return x.Status != "RUNNING"
	})
	if x.Status != "SUCCEEDED" {
		h.t.Fatalf("execution %s: %s %s %s", exec, x.Status, x.Error, x.Cause)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(x.Output), &out); err != nil {
		h.t.Fatalf("output %q: %v", x.Output, err)
	}
	return out
}

func (h *harness) status(exec string) string {
	x, err := h.e.DescribeExecution(h.ctx, exec)
	if err != nil {
		h.t.Fatal(err)
	}
	return x.Status
}

// switchNotifier lets a test swap the e-mail notifier (a dead SMTP server,
// then a live one).
type switchNotifier struct{ n atomic.Value }

func (s *switchNotifier) set(n notify.Notifier) { s.n.Store(&n) }
func (s *switchNotifier) Notify(ctx context.Context, to notify.Recipient, ns ...notify.Notice) (notify.Receipt, error) {
	return (*s.n.Load().(*notify.Notifier)).Notify(ctx, to, ns...)
}

// recorder is a notifier that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []sentMsg
}

type sentMsg struct {
	To      notify.Recipient
	Notices []notify.Notice
}

func (r *recorder) Notify(_ context.Context, to notify.Recipient, ns ...notify.Notice) (notify.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sentMsg{to, ns})
	return notify.Receipt{To: to, ID: "rec-" + to.Address}, nil
}

func (r *recorder) messages() []sentMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentMsg(nil), r.sent...)
}

// --- a real SMTP server (emersion/go-smtp) with STARTTLS and AUTH ---

type smtpServer struct {
	port  int
	roots *x509.CertPool
	mu    sync.Mutex
	msgs  []smtpMsg
}

type smtpMsg struct {
	To   string
	Data []byte
}

type smtpSession struct {
	s    *smtpServer
	auth bool
	to   string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pw string) error {
		if user != smtpUser || pw != smtpPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		s.auth = true
		return nil
	}), nil
}
func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.s.mu.Lock()
	s.s.msgs = append(s.s.msgs, smtpMsg{To: s.to, Data: b})
	s.s.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "approval test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	s := &smtpServer{roots: x509.NewCertPool()}
	s.roots.AddCert(cert)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) mailer(t *testing.T) *email.Mailer {
	t.Helper()
	m, err := email.New(email.Config{Host: "127.0.0.1", Port: s.port, Username: smtpUser, Password: smtpPassword,
		From: "steward <steward@example.com>", TLSConfig: &tls.Config{RootCAs: s.roots}, Timeout: 5 * time.Second,
		Retry: notify.RetryPolicy{Attempts: 2, SleepFunc: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *smtpServer) received() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

// --- a test server playing Slack's Web API ---

type fakeSlack struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []slackCall
	ts    int
}

type slackCall struct {
	Method string
	Body   map[string]any
}

func startSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/")
		if r.Header.Get("Authorization") != "Bearer xoxb-test" {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		body := map[string]any{}
		raw, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			json.Unmarshal(raw, &body)
		} else {
			form, _ := url.ParseQuery(string(raw))
			for k := range form {
				body[k] = form.Get(k)
			}
		}
		f.mu.Lock()
		f.calls = append(f.calls, slackCall{method, body})
		f.ts++
		ts := f.ts
		f.mu.Unlock()
		switch method {
		case "users.lookupByEmail":
			if body["email"] == "alice@example.com" {
				json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": "UALICE"}})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "users_not_found"})
		case "chat.postMessage":
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "D" + body["channel"].(string), "ts": "1700000000." + strings.Repeat("0", 5) + string(rune('0'+ts%10))})
		case "chat.update":
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": body["channel"], "ts": body["ts"]})
		default:
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) called(method string) []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}
