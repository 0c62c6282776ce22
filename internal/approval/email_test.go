package approval

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

var (
	linkRE = regexp.MustCompile(`https?://[^\s"<>]+/approve/[A-Za-z0-9._-]+`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// mailText returns the plain-text part of a received message.
func mailText(t *testing.T, data []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		return string(b)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
			text = string(b)
		}
	}
	return text
}

// links maps each choice to its link in a message.
func links(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range linkRE.FindAllString(text, -1) {
		c := claimsOf(t, l)
		out[c] = l
	}
	return out
}

// claimsOf reads the choice a link carries (without checking it).
func claimsOf(t *testing.T, link string) string {
	parts := strings.Split(link[strings.LastIndex(link, "/")+1:], ".")
	if len(parts) != 4 {
		t.Fatalf("link %q", link)
	}
	b, err := decodeB64(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"c":"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("claims %s", b)
	}
	return string(m[1])
}

type page struct {
	Status int
	Body   string
}

func get(t *testing.T, link string) page {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, string(b)}
}

// confirm GETs the link's page and POSTs its form, as a person does.
func confirm(t *testing.T, link, by string) page {
	t.Helper()
	p := get(t, link)
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		return p
	}
	return post(t, link, url.Values{"csrf": {m[1]}, "by": {by}})
}

func post(t *testing.T, link string, form url.Values) page {
	t.Helper()
	resp, err := http.PostForm(link, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, string(b)}
}

// TestEmailEndToEnd: a real SMTP server receives the notice; the test
// reads the links from it, opens one (nothing changes), confirms it, and
// the execution continues with the decision. The same link again is 410,
// an expired one 410, a tampered one 403.
func TestEmailEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true})
	exec := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0aaa", "alice"))
	a := h.approvals(exec, 1)[0]
	if a.Owner != "alice" || a.Account != devAccount || !a.Deadline.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("approval: %+v", a)
	}
	h.tick()
	msgs := h.smtp.received()
	if len(msgs) != 1 || msgs[0].To != "alice@example.com" {
		t.Fatalf("mails: %+v", msgs)
	}
	text := mailText(t, msgs[0].Data)
	ls := links(t, text)
	// development: no one-year exception offered
	if ls["approve"] == "" || ls["deny"] == "" || ls["exception-1m"] == "" || ls["exception-1y"] != "" {
		t.Fatalf("links in the mail: %v\n%s", ls, text)
	}

	// GET shows a confirmation page and changes nothing.
	p := get(t, ls["approve"])
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "<form") {
		t.Fatalf("GET: %d", p.Status)
	}
	if got, _ := h.st.GetApproval(h.ctx, a.ID); got.Status != store.ApprovalPending || h.status(exec) != "RUNNING" {
		t.Fatalf("GET changed something: %s %s", got.Status, h.status(exec))
	}
	// A tampered link: 403, nothing changes.
	tampered := ls["approve"][:len(ls["approve"])-3] + "AAA"
	if p := get(t, tampered); p.Status != http.StatusForbidden {
		t.Errorf("tampered GET: %d", p.Status)
	}
	if p := post(t, tampered, url.Values{"by": {"x"}}); p.Status != http.StatusForbidden {
		t.Errorf("tampered POST: %d", p.Status)
	}

	// POST from the page decides.
	if p := confirm(t, ls["approve"], "alice@example.com"); p.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", p.Status, p.Body)
	}
	out := h.finished(exec)
	ap := out["approval"].(map[string]any)
	if out["outcome"] != "fixed" || ap["decision"] != "approve" || ap["by"] != "alice@example.com" || ap["channel"] != "email" {
		t.Fatalf("output: %v", out)
	}
	if h.fixes.Load() != 1 {
		t.Errorf("%d fixes", h.fixes.Load())
	}
	// The same link again: 410. Another choice of the same approval: not
	// used, but the approval is decided: 409, nothing changes.
	if p := confirm(t, ls["approve"], "alice@example.com"); p.Status != http.StatusGone {
		t.Errorf("reused link: %d", p.Status)
	}
	if p := confirm(t, ls["deny"], "mallory"); p.Status != http.StatusConflict {
		t.Errorf("second decision: %d", p.Status)
	}
	got, _ := h.st.GetApproval(h.ctx, a.ID)
	if got.Decision != "approve" || got.DecidedBy != "alice@example.com" || got.Channel != "email" || got.DeliveredAt.IsZero() {
		t.Errorf("recorded: %+v", got)
	}

	// An expired link: 410, and the deadline's default decided instead.
	exec2 := h.start("ebs-unused", askThenFix, volumeInput(devAccount, "vol-0bbb", "alice"))
	h.approvals(exec2, 1)
	h.tick()
	msgs = h.smtp.received()
	ls2 := links(t, mailText(t, msgs[len(msgs)-1].Data))
	h.advance(48*time.Hour + time.Minute)
	if p := get(t, ls2["deny"]); p.Status != http.StatusGone {
		t.Errorf("expired link GET: %d", p.Status)
	}
	if p := post(t, ls2["deny"], url.Values{"by": {"alice"}}); p.Status != http.StatusGone {
		t.Errorf("expired link POST: %d", p.Status)
	}
	h.tick()
	out = h.finished(exec2)
	if ap := out["approval"].(map[string]any); out["outcome"] != "fixed" || ap["by"] != DeadlineBy || ap["channel"] != "deadline" {
		t.Errorf("after the deadline: %v", out)
	}
}

// TestEmailException: the exception link records an exception (store and
// tag) and the playbook does not fix.
func TestEmailException(t *testing.T) {
	h := newHarness(t, harnessOpts{noSlack: true})
	exec := h.start("ebs-unused", askThenFix, volumeInput(prodAccount, "vol-0ccc", "bob"))
	a := h.approvals(exec, 1)[0]
	h.tick()
	ls := links(t, mailText(t, h.smtp.received()[0].Data))
	if ls["exception-1y"] == "" {
		t.Fatalf("production offers a year: %v", ls)
	}
	if p := confirm(t, ls["exception-1y"], "bob"); p.Status != http.StatusOK {
		t.Fatalf("confirm: %d", p.Status)
	}
	out := h.finished(exec)
	ap := out["approval"].(map[string]any)
	wantUntil := t0.AddDate(1, 0, 0).Format(time.RFC3339)
	if out["outcome"] != "exception" || ap["decision"] != "exception" || ap["until"] != wantUntil {
		t.Fatalf("output: %v", out)
	}
	if h.fixes.Load() != 0 {
		t.Errorf("fixed despite the exception")
	}
	ex, err := h.st.ActiveException(h.ctx, a.Resource, "ebs-unused", t0.Add(time.Hour))
	if err != nil || ex.GrantedBy != "bob" || ex.Channel != "email" || !ex.Until.Equal(t0.AddDate(1, 0, 0)) {
		t.Errorf("exception: %+v %v", ex, err)
	}
	if len(h.tags) != 1 || h.tags[0].Resource != a.Resource {
		t.Errorf("tags: %+v", h.tags)
	}
}

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
