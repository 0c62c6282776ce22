package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

const token = "xoxb-secret-token-123"

// fakeSlack plays the Slack Web API and records calls.
type fakeSlack struct {
	mu      sync.Mutex
	calls   []call
	fail    map[string][]int // method -> statuses to answer first
	retryIn string
}

type call struct {
	Method string
	Auth   string
	Params map[string]any
	Form   url.Values
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	c := call{Method: method, Auth: r.Header.Get("Authorization")}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(body, &c.Params)
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	var status int
	if q := f.fail[method]; len(q) > 0 {
		status, f.fail[method] = q[0], q[1:]
	}
	f.mu.Unlock()
	if status != 0 {
		if f.retryIn != "" {
			w.Header().Set("Retry-After", f.retryIn)
		}
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if c.Auth != "Bearer "+token {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	switch method {
	case "chat.postMessage":
		fmt.Fprintf(w, `{"ok":true,"channel":"C0DM%s","ts":"1700000000.000100"}`, c.Params["channel"])
	case "chat.update":
		fmt.Fprint(w, `{"ok":true}`)
	case "users.lookupByEmail":
		if c.Form.Get("email") == "alice@example.com" {
			fmt.Fprint(w, `{"ok":true,"user":{"id":"UALICE","name":"alice"}}`)
		} else {
			fmt.Fprint(w, `{"ok":false,"error":"users_not_found"}`)
		}
	default:
		fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (f *fakeSlack) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func newClient(t *testing.T, f *fakeSlack, tok string) (*Client, *waits) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	ws := &waits{}
	c, err := New(Config{Token: tok, BaseURL: srv.URL + "/api", Retry: notify.RetryPolicy{SleepFunc: ws.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	return c, ws
}

var deadline = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func testNotice(id string) notify.Notice {
	return notify.Notice{
		ApprovalID: id, ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:iam-restricted-actions:run-" + id,
		Playbook: "iam-restricted-actions", Title: "Policy grants restricted actions <!channel>",
		Resources: []notify.Resource{{Account: "111111111111", ID: "wide-open", ARN: "arn:aws:iam::111111111111:policy/wide-open", Type: "AWS::IAM::ManagedPolicy",
			Owner: "arn:aws:sts::111111111111:assumed-role/Dev/alice@example.com"}},
		Owner:  notify.Owner{Raw: "arn:aws:sts::111111111111:assumed-role/Dev/alice@example.com", Email: "alice@example.com", SlackUser: "UALICE"},
		Action: "keep the policy reverted to its safe version", Deadline: deadline, DefaultAction: approve.ChoiceDeny,
		AccountClass: "production", Choices: notify.Choices(true, nil),
	}
}

// buttons returns the button values of a recorded message.
func buttons(t *testing.T, c call) map[string]string {
	t.Helper()
	out := map[string]string{}
	blocks, _ := c.Params["blocks"].([]any)
	for _, b := range blocks {
		bm := b.(map[string]any)
		if bm["type"] != "actions" {
			continue
		}
		for _, e := range bm["elements"].([]any) {
			em := e.(map[string]any)
			if _, isURL := em["url"]; isURL {
				t.Errorf("button carries a URL: %v", em)
			}
			out[em["text"].(map[string]any)["text"].(string)] = em["action_id"].(string) + "|" + em["value"].(string)
		}
	}
	return out
}

func signedRequest(t *testing.T, url, secret string, ts int64, payload string) *http.Request {
	t.Helper()
	body := "payload=" + urlQueryEscape(payload)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts))
	req.Header.Set("X-Slack-Signature", Sign(secret, ts, []byte(body)))
	return req
}

func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func blockActions(user, name, actionID, value string) string {
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": name, "name": name, "team_id": "T1"},
		"channel": map[string]any{"id": "C0DMUALICE"}, "container": map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0DMUALICE"},
		"response_url": "https://hooks.slack.com/actions/x", "trigger_id": "1.2.3",
		"actions": []any{map[string]any{"type": "button", "action_id": actionID, "block_id": "steward-0", "value": value, "action_ts": "1700000001.0"}},
	})
	return string(b)
}

// TestSlackEndToEnd: post a notice, press a button (a signed interaction),
// the decision reaches the engine, the message is updated.
func TestSlackEndToEnd(t *testing.T) {
	f := &fakeSlack{}
	var logs bytes.Buffer
	client, _ := newClient(t, f, token)
	ctx := context.Background()

	// Routing through users.lookupByEmail.
	r := notify.NewRouter(notify.RouterConfig{Slack: client, Fallback: map[string][]notify.Recipient{"": {{Kind: notify.KindSlack, Address: "#secops"}}}})
	n := testNotice("appr-7")
	n.Owner = notify.Owner{Raw: n.Owner.Raw}
	r.Address(ctx, &n)
	if len(n.To) != 2 || n.To[1] != (notify.Recipient{Kind: notify.KindSlack, Address: "UALICE"}) {
		t.Fatalf("routed to %v", n.To)
	}
	rcpt, err := client.Notify(ctx, n.To[1], n)
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.ID != "C0DMUALICE/1700000000.000100" {
		t.Fatalf("receipt %+v", rcpt)
	}
	calls := f.recorded()
	post := calls[len(calls)-1]
	if post.Method != "chat.postMessage" || post.Params["channel"] != "UALICE" || post.Params["unfurl_links"] != false {
		t.Fatalf("post = %+v", post)
	}
	raw := marshal(post.Params["blocks"])
	for _, want := range []string{`"type":"header"`, "wide-open", "111111111111", "&lt;!channel&gt;", "<@UALICE>", "keep the policy reverted", "Tue 24 Nov 2026 09:00 UTC"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("blocks lack %q: %s", want, raw)
		}
	}
	if strings.Contains(string(raw), "<!channel>") || strings.Contains(post.Params["text"].(string), "<!channel>") {
		t.Error("a title could mention @channel")
	}
	btns := buttons(t, post)
	if len(btns) != 4 {
		t.Fatalf("buttons = %v", btns)
	}

	// The person presses "Exception for 1 year".
	clk := time.Unix(1700000100, 0)
	var mu sync.Mutex
	var got []approve.Decision
	h, err := NewInteractionHandler(InteractionConfig{SigningSecret: "s3cret", Now: func() time.Time { return clk },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Decide: func(_ context.Context, d approve.Decision) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, d)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	aid, val, _ := strings.Cut(btns["Exception for 1 year"], "|")
	payload := blockActions("UALICE", "alice", aid, val)
	resp, err := http.DefaultClient.Do(signedRequest(t, srv.URL, "s3cret", clk.Unix()-30, payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := approve.Decision{ApprovalID: "appr-7", ExecutionARN: n.ExecutionARN, Choice: approve.ChoiceException1Y,
		By: approve.Person{ID: "UALICE", Name: "alice"}, Channel: "slack", At: clk.UTC()}
	if resp.StatusCode != 200 || len(got) != 1 || got[0] != want {
		t.Fatalf("status %d, decisions %+v", resp.StatusCode, got)
	}

	// The engine updates the message.
	if err := client.Update(ctx, rcpt, got[0]); err != nil {
		t.Fatal(err)
	}
	calls = f.recorded()
	upd := calls[len(calls)-1]
	raw = marshal(upd.Params["blocks"])
	if upd.Method != "chat.update" || upd.Params["channel"] != "C0DMUALICE" || upd.Params["ts"] != "1700000000.000100" ||
		!strings.Contains(string(raw), "Exception for 1 year* - decided by <@UALICE> via slack") || len(buttons(t, upd)) != 0 {
		t.Fatalf("update = %+v\n%s", upd, raw)
	}
	if err := client.Update(ctx, rcpt, approve.Decision{ApprovalID: "other"}); err == nil {
		t.Fatal("update for an approval not in the message")
	}

	// Forged, stale, future and replayed requests change nothing.
	bad := []*http.Request{
		signedRequest(t, srv.URL, "wrong-secret", clk.Unix(), payload),
		signedRequest(t, srv.URL, "s3cret", clk.Unix()-301, payload),
		signedRequest(t, srv.URL, "s3cret", clk.Unix()+301, payload),
		signedRequest(t, srv.URL, "s3cret", clk.Unix()-30, payload), // the same request again
	}
	tampered := signedRequest(t, srv.URL, "s3cret", clk.Unix(), payload)
	tb := "payload=" + urlQueryEscape(strings.Replace(payload, "exception-1y", "approve", 1))
	tampered.Body, tampered.ContentLength = io.NopCloser(strings.NewReader(tb)), int64(len(tb))
	noHeaders := signedRequest(t, srv.URL, "s3cret", clk.Unix(), payload)
	noHeaders.Header.Del("X-Slack-Signature")
	bad = append(bad, tampered, noHeaders)
	for i, req := range bad {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad request %d: status %d", i, resp.StatusCode)
		}
	}
	if len(got) != 1 {
		t.Fatalf("refused requests decided: %+v", got)
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), token) {
		t.Fatal("a secret reached the log")
	}
}

func TestInteractionDecideErrors(t *testing.T) {
	clk := time.Unix(1700000100, 0)
	var decideErr error
	calls := 0
	h, _ := NewInteractionHandler(InteractionConfig{SigningSecret: "k", Now: func() time.Time { return clk },
		Decide: func(context.Context, approve.Decision) error { calls++; return decideErr }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(payload string) int {
		resp, err := http.DefaultClient.Do(signedRequest(t, srv.URL, "k", clk.Unix(), payload))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	val := EncodeAction("a1", "", approve.ChoiceApprove)
	decideErr = errors.New("store down")
	if code := do(blockActions("U1", "bob", ActionIDPrefix+"0-0", val)); code != 500 {
		t.Fatalf("transient: %d", code)
	}
	decideErr = nil // the same press again (Slack or the person retries) is served
	if code := do(blockActions("U1", "bob", ActionIDPrefix+"0-0", val)); code != 200 || calls != 2 {
		t.Fatalf("retry: %d calls %d", code, calls)
	}
	clk = clk.Add(time.Second)
	decideErr = &approve.EndedError{ExecutionARN: "arn", Status: "SUCCEEDED"}
	if code := do(blockActions("U1", "bob", ActionIDPrefix+"0-0", val)); code != 200 {
		t.Fatalf("ended: %d", code)
	}
	clk = clk.Add(time.Second)
	if code := do(blockActions("U1", "bob", "someone-elses-button", val)); code != 400 {
		t.Fatalf("not ours: %d", code)
	}
	if code := do(`{"type":"view_submission","user":{"id":"U1"}}`); code != 400 {
		t.Fatalf("view_submission: %d", code)
	}
	if code := do(blockActions("U1", "bob", ActionIDPrefix+"0-0", `{"v":1,"a":"x","c":"maybe"}`)); code != 400 {
		t.Fatalf("bad choice: %d", code)
	}
	resp, _ := http.Get(srv.URL)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestClientRetriesAndErrors(t *testing.T) {
	ctx := context.Background()
	to := notify.Recipient{Kind: notify.KindSlack, Address: "C1"}

	f := &fakeSlack{fail: map[string][]int{"chat.postMessage": {429, 503}}, retryIn: "3"}
	c, ws := newClient(t, f, token)
	if _, err := c.Notify(ctx, to, testNotice("a")); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ws.d) != "[3s 3s]" || len(f.recorded()) != 3 {
		t.Fatalf("waits %v, calls %d", ws.d, len(f.recorded()))
	}

	f = &fakeSlack{fail: map[string][]int{"chat.postMessage": {500, 500, 500, 500, 500}}}
	c, _ = newClient(t, f, token)
	_, err := c.Notify(ctx, to, testNotice("a"))
	var de *notify.DeliveryError
	if !errors.As(err, &de) || !de.Transient || de.Attempts != 4 {
		t.Fatalf("5xx: %v", err)
	}

	f = &fakeSlack{}
	c, _ = newClient(t, f, "xoxb-wrong")
	_, err = c.Notify(ctx, to, testNotice("a"))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "invalid_auth" || notify.IsTransient(err) || len(f.recorded()) != 1 {
		t.Fatalf("invalid_auth: %v", err)
	}
	if strings.Contains(err.Error(), "xoxb") {
		t.Fatal("token in error")
	}
	c, _ = newClient(t, f, token)
	if _, err := c.LookupByEmail(ctx, "nobody@example.com"); !errors.Is(err, notify.ErrNoSuchUser) {
		t.Fatalf("lookup: %v", err)
	}
	if _, err := c.Notify(ctx, notify.Recipient{Kind: notify.KindEmail, Address: "a@b"}, testNotice("a")); err == nil {
		t.Fatal("sent an e-mail recipient to Slack")
	}
	if _, err := c.Notify(ctx, to); !errors.Is(err, notify.ErrNoNotices) {
		t.Fatalf("no notices: %v", err)
	}
	if _, err := New(Config{}); !errors.Is(err, ErrNoToken) {
		t.Fatal(err)
	}

	// Connection refused is transient.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, _ = New(Config{Token: token, BaseURL: srv.URL, Retry: notify.RetryPolicy{Attempts: 2, SleepFunc: (&waits{}).sleep}})
	if _, err := c.Notify(ctx, to, testNotice("a")); !errors.As(err, &de) || !de.Transient || strings.Contains(err.Error(), token) {
		t.Fatalf("refused: %v", err)
	}
}

func TestMessageLimits(t *testing.T) {
	var ns []notify.Notice
	for i := 0; i < 30; i++ {
		n := testNotice(fmt.Sprint(i))
		for j := 0; j < 15; j++ {
			n.Resources = append(n.Resources, notify.Resource{Account: "1", ID: fmt.Sprint("vol-", j)})
		}
		ns = append(ns, n)
	}
	m := Message(ns)
	if len(m.Blocks) > maxBlocks {
		t.Fatalf("%d blocks", len(m.Blocks))
	}
	raw, _ := json.Marshal(m.Blocks)
	if !strings.Contains(string(raw), "more finding(s) not shown") || !strings.Contains(string(raw), "and 6 more") {
		t.Fatalf("no overflow lines: %s", raw)
	}
	ids := map[string]bool{}
	for _, b := range m.Blocks {
		if b["type"] == "actions" {
			for _, e := range b["elements"].([]Block) {
				id := e["action_id"].(string)
				if ids[id] {
					t.Fatalf("duplicate action_id %s", id)
				}
				ids[id] = true
			}
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	now := time.Unix(1531420618, 0)
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather")
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	h.Set("X-Slack-Signature", Sign("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body))
	if err := VerifyRequest("8f742231b10e8888abcd99yyyzzz85a5", h, body, now); err != nil {
		t.Fatal(err)
	}
	// Slack's documented example signature for this secret, timestamp and body.
	if got := Sign("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")); got != "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503" {
		t.Errorf("Sign = %s", got)
	}
	for name, mod := range map[string]func(http.Header){
		"no timestamp": func(h http.Header) { h.Del("X-Slack-Request-Timestamp") },
		"junk ts":      func(h http.Header) { h.Set("X-Slack-Request-Timestamp", "12abc") },
		"old":          func(h http.Header) { h.Set("X-Slack-Request-Timestamp", "1531420000") },
		"v1 sig": func(h http.Header) {
			h.Set("X-Slack-Signature", strings.Replace(h.Get("X-Slack-Signature"), "v0=", "v1=", 1))
		},
	} {
		hh := h.Clone()
		mod(hh)
		if err := VerifyRequest("8f742231b10e8888abcd99yyyzzz85a5", hh, body, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
