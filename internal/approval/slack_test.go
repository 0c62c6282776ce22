package approval

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/notify/slack"
	"github.com/stewardhq/steward/internal/store"
)

// button finds the button for choice in a recorded chat.postMessage.
func button(t *testing.T, call slackCall, approvalID, choice string) (actionID, value string) {
	t.Helper()
	blocks, _ := call.Body["blocks"].([]any)
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		if bm["type"] != "actions" {
			continue
		}
		for _, e := range bm["elements"].([]any) {
			em := e.(map[string]any)
			v, _ := em["value"].(string)
			id, _, c, err := slack.DecodeAction(v)
			if err == nil && id == approvalID && string(c) == choice {
				return em["action_id"].(string), v
			}
		}
	}
	t.Fatalf("no %s button for %s in %v", choice, approvalID, call.Body)
	return "", ""
}

// press posts an interaction payload to the endpoint, signed with secret
// at ts, and returns the HTTP status.
func (h *harness) press(actionID, value, secret string, ts time.Time) int {
	h.t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": "UALICE", "name": "alice"},
		"channel":   map[string]any{"id": "DUALICE"},
		"container": map[string]any{"message_ts": "1700000000.000001", "channel_id": "DUALICE"},
		"actions":   []any{map[string]any{"action_id": actionID, "value": value, "type": "button"}},
	})
	body := "payload=" + url.QueryEscape(string(payload))
	req, _ := http.NewRequest(http.MethodPost, h.web.URL+"/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts.Unix()))
	req.Header.Set("X-Slack-Signature", slack.Sign(secret, ts.Unix(), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlackEndToEnd: a test server plays Slack's Web API; the owner gets
// Block Kit buttons; a correctly signed press continues the execution and
// the message is updated with the decision; a bad signature or an old
// timestamp is refused and changes nothing.
func TestSlackEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	exec := h.start("ebs-unused", askThenFix, volumeInput(prodAccount, "vol-0ddd", "alice"))
	a := h.approvals(exec, 1)[0]
	h.tick()
	posts := h.slack.called("chat.postMessage")
	if len(posts) != 1 || posts[0].Body["channel"] != "UALICE" {
		t.Fatalf("posts: %+v", posts)
	}
	if len(h.smtp.received()) != 1 {
		t.Errorf("the e-mail also goes out: %d", len(h.smtp.received()))
	}
	button(t, posts[0], a.ID, "exception-1y") // production: a year is offered
	aid, val := button(t, posts[0], a.ID, "approve")

	// Forged and stale requests: 401, nothing changes.
	if st := h.press(aid, val, "wrong-secret", h.clk.Now()); st != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", st)
	}
	if st := h.press(aid, val, slackSecret, h.clk.Now().Add(-6*time.Minute)); st != http.StatusUnauthorized {
		t.Errorf("old timestamp: %d", st)
	}
	if got, _ := h.st.GetApproval(h.ctx, a.ID); got.Status != store.ApprovalPending || h.status(exec) != "RUNNING" {
		t.Fatalf("a refused request changed something: %s", got.Status)
	}

	if st := h.press(aid, val, slackSecret, h.clk.Now()); st != http.StatusOK {
		t.Fatalf("signed press: %d", st)
	}
	out := h.finished(exec)
	ap := out["approval"].(map[string]any)
	if out["outcome"] != "fixed" || ap["decision"] != "approve" || ap["channel"] != "slack" || !strings.Contains(ap["by"].(string), "UALICE") {
		t.Fatalf("output: %v", out)
	}
	ups := h.slack.called("chat.update")
	if len(ups) != 1 {
		t.Fatalf("chat.update calls: %d", len(ups))
	}
	b, _ := json.Marshal(ups[0].Body["blocks"])
	if !strings.Contains(string(b), "decided by") || strings.Contains(string(b), `"type":"actions"`) {
		t.Errorf("updated message: %s", b)
	}
	// Pressing again (a new, signed request): the approval is decided; 200
	// and nothing more happens.
	if st := h.press(aid, val, slackSecret, h.clk.Now().Add(time.Second)); st != http.StatusOK {
		t.Errorf("second press: %d", st)
	}
	if h.fixes.Load() != 1 {
		t.Errorf("%d fixes", h.fixes.Load())
	}
}

// TestSlackException: the one-year exception button in production grants
// a year's exception; the playbook leaves the resource.
func TestSlackException(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	exec := h.start("ebs-unused", askThenFix, volumeInput(prodAccount, "vol-0eee", "alice"))
	a := h.approvals(exec, 1)[0]
	h.tick()
	aid, val := button(t, h.slack.called("chat.postMessage")[0], a.ID, "exception-1y")
	if st := h.press(aid, val, slackSecret, h.clk.Now()); st != http.StatusOK {
		t.Fatalf("press: %d", st)
	}
	out := h.finished(exec)
	if out["outcome"] != "exception" || h.fixes.Load() != 0 {
		t.Fatalf("output: %v, fixes %d", out, h.fixes.Load())
	}
	if _, err := h.st.ActiveException(h.ctx, a.Resource, "ebs-unused", t0.AddDate(0, 11, 0)); err != nil {
		t.Errorf("a year's exception: %v", err)
	}
}

// TestSlackBatchUpdates: two approvals of one run go out as one Slack
// message; each decision updates it, and the second update still shows
// the first decision.
func TestSlackBatchUpdates(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	res := []any{"arn:aws:ec2:eu-west-1:" + devAccount + ":volume/vol-a", "arn:aws:ec2:eu-west-1:" + devAccount + ":volume/vol-b"}
	exec := h.start("ebs-many", askMany, map[string]any{"account": devAccount, "region": "eu-west-1", "owner": "alice", "resources": res})
	as := h.approvals(exec, 2)
	h.tick()
	posts := h.slack.called("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d messages, want one for the run", len(posts))
	}
	for i, choice := range []string{"approve", "deny"} {
		aid, val := button(t, posts[0], as[i].ID, choice)
		if st := h.press(aid, val, slackSecret, h.clk.Now().Add(time.Duration(i)*time.Second)); st != http.StatusOK {
			t.Fatalf("press %d: %d", i, st)
		}
	}
	h.eventually("the run to end", func() bool { return h.status(exec) == "SUCCEEDED" })
	ups := h.slack.called("chat.update")
	if len(ups) != 2 {
		t.Fatalf("%d updates", len(ups))
	}
	b, _ := json.Marshal(ups[1].Body["blocks"])
	if n := strings.Count(string(b), "decided by"); n != 2 {
		t.Errorf("the last update shows %d decisions, want 2: %s", n, b)
	}
}
