package approve

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func newSigner(t testing.TB, clk *fakeNow) *Signer {
	t.Helper()
	s, err := NewSigner(SignerConfig{Key: bytes.Repeat([]byte{7}, 32), BaseURL: "https://steward.example.com/", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(choice Choice) Claims {
	return Claims{ApprovalID: "appr-1", ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1", Choice: choice, Expires: t0.Add(48 * time.Hour)}
}

func mustToken(t testing.TB, s *Signer, c Claims) string {
	t.Helper()
	tok, err := s.Token(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSignerRoundTrip(t *testing.T) {
	clk := &fakeNow{t: t0}
	s := newSigner(t, clk)
	link := s.Link(claims(ChoiceException1Y))
	if !strings.HasPrefix(link, "https://steward.example.com/approve/v1.") {
		t.Fatalf("link = %q", link)
	}
	tok := strings.TrimPrefix(link, "https://steward.example.com/approve/")
	if url.PathEscape(tok) != tok {
		t.Fatalf("token is not URL-safe: %q", tok)
	}
	c, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := claims(ChoiceException1Y)
	if c.ApprovalID != want.ApprovalID || c.ExecutionARN != want.ExecutionARN || c.Choice != want.Choice || !c.Expires.Equal(want.Expires) || c.Nonce == "" {
		t.Fatalf("claims = %+v", c)
	}
	first, second := s.Link(claims(ChoiceApprove)), s.Link(claims(ChoiceApprove))
	if first == second {
		t.Fatal("two links share a nonce")
	}
}

func TestSignerErrors(t *testing.T) {
	clk := &fakeNow{t: t0}
	s := newSigner(t, clk)
	good := mustToken(t, s, claims(ChoiceApprove))
	deny := mustToken(t, s, claims(ChoiceDeny))
	parts := strings.Split(good, ".")
	dparts := strings.Split(deny, ".")

	// Re-encode the approve claims as deny, keep the approve signature.
	body, _ := base64.RawURLEncoding.DecodeString(parts[2])
	forged := strings.Replace(string(body), `"c":"approve"`, `"c":"deny"`, 1)
	forgedTok := strings.Join([]string{parts[0], parts[1], base64.RawURLEncoding.EncodeToString([]byte(forged)), parts[3]}, ".")

	other, _ := NewSigner(SignerConfig{Key: bytes.Repeat([]byte{9}, 32), Now: clk.Now})
	flip := []byte(good)
	flip[len(flip)-20] ^= 1

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrUnknown},
		{"not ours", "hello", ErrUnknown},
		{"unknown key", mustToken(t, other, claims(ChoiceApprove)), ErrTampered},
		{"flipped bit in mac", string(flip), ErrTampered},
		{"choice changed", forgedTok, ErrTampered},
		{"signature of another choice", strings.Join([]string{parts[0], parts[1], parts[2], dparts[3]}, "."), ErrTampered},
		{"claims of another choice", strings.Join([]string{parts[0], parts[1], dparts[2], parts[3]}, "."), ErrTampered},
		{"truncated", good[:len(good)-3], ErrTampered},
		{"extra part", good + ".x", ErrTampered},
		{"too long", "v1." + strings.Repeat("a", MaxTokenLen), ErrUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}

	clk.Add(48 * time.Hour)
	c, err := s.Verify(good)
	if !errors.Is(err, ErrExpired) || c.ApprovalID != "appr-1" {
		t.Fatalf("at deadline: %v %+v", err, c)
	}
}

func TestSignerConfig(t *testing.T) {
	if _, err := NewSigner(SignerConfig{Key: make([]byte, 31)}); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := NewSigner(SignerConfig{Key: NewKey(), BaseURL: "steward.example.com"}); err == nil {
		t.Fatal("relative base URL accepted")
	}
	if len(NewKey()) != 32 || bytes.Equal(NewKey(), NewKey()) {
		t.Fatal("NewKey")
	}
	// Rotation: links made with the old key still verify.
	clk := &fakeNow{t: t0}
	oldKey, newKey := NewKey(), NewKey()
	old, _ := NewSigner(SignerConfig{Key: oldKey, Now: clk.Now})
	rotated, err := NewSigner(SignerConfig{Key: newKey, OldKeys: [][]byte{oldKey}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.Verify(mustToken(t, old, claims(ChoiceApprove))); err != nil {
		t.Fatalf("old-key link after rotation: %v", err)
	}
	for _, c := range []Claims{{}, {ApprovalID: "a", Choice: "maybe", Expires: t0}, {ApprovalID: "a", Choice: ChoiceDeny}} {
		if _, err := rotated.Token(c); !errors.Is(err, ErrBadClaim) {
			t.Fatalf("Token(%+v) = %v", c, err)
		}
		if rotated.Link(c) != "" {
			t.Fatal("Link of bad claims")
		}
	}
}

// harness is a Handler with a recording DecideFunc.
type harness struct {
	clk     *fakeNow
	signer  *Signer
	used    *MemoryUsed
	srv     *httptest.Server
	mu      sync.Mutex
	got     []Decision
	decideE error
}

func newHarness(t *testing.T) *harness {
	h := &harness{clk: &fakeNow{t: t0}, used: &MemoryUsed{}}
	h.signer = newSigner(t, h.clk)
	handler, err := NewHandler(HandlerConfig{Signer: h.signer, Used: h.used, Decide: func(ctx context.Context, d Decision) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.decideE != nil {
			return h.decideE
		}
		h.got = append(h.got, d)
		return nil
	}, Describe: func(ctx context.Context, c Claims) (Details, error) {
		return Details{Title: "ebs-unused", Lines: []string{"vol-0123 in 111111111111/us-east-1 will be deleted"}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/approve/", handler)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) decisions() []Decision {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Decision(nil), h.got...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (h *harness) open(t *testing.T, tok string) (int, string) {
	t.Helper()
	resp, err := http.Get(h.srv.URL + "/approve/" + tok)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if resp.Header.Get(k) != v {
			t.Errorf("%s = %q", k, resp.Header.Get(k))
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
	return resp.StatusCode, string(b)
}

func (h *harness) confirm(t *testing.T, tok, csrf, by string, extra url.Values) (int, string) {
	t.Helper()
	form := url.Values{"csrf": {csrf}, "by": {by}}
	for k, v := range extra {
		form[k] = v
	}
	resp, err := http.PostForm(h.srv.URL+"/approve/"+tok, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

func TestHandlerGetChangesNothingPostActsOnce(t *testing.T) {
	h := newHarness(t)
	tok := mustToken(t, h.signer, claims(ChoiceException1M))
	var csrf string
	for i := 0; i < 3; i++ { // scanners, previews, the person
		code, page := h.open(t, tok)
		if code != 200 || !strings.Contains(page, "Exception for 1 month") || !strings.Contains(page, "vol-0123") || !strings.Contains(page, `method="post"`) {
			t.Fatalf("GET %d:\n%s", code, page)
		}
		csrf = csrfOf(t, page)
	}
	if len(h.decisions()) != 0 || len(h.used.used) != 0 {
		t.Fatal("GET changed something")
	}
	// The choice comes from the token only, never from the form.
	code, page := h.confirm(t, tok, csrf, "alice@example.com", url.Values{"choice": {"deny"}})
	if code != 200 || !strings.Contains(page, "Done") {
		t.Fatalf("POST %d:\n%s", code, page)
	}
	got := h.decisions()
	want := Decision{ApprovalID: "appr-1", ExecutionARN: claims("").ExecutionARN, Choice: ChoiceException1M, By: Person{Email: "alice@example.com"}, Channel: "email", At: t0}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("decisions = %+v", got)
	}
	code, _ = h.confirm(t, tok, csrf, "alice@example.com", nil)
	if code != http.StatusGone || len(h.decisions()) != 1 {
		t.Fatalf("second POST = %d, decisions %d", code, len(h.decisions()))
	}
}

func TestHandlerRefusals(t *testing.T) {
	h := newHarness(t)
	tok := mustToken(t, h.signer, claims(ChoiceApprove))
	_, page := h.open(t, tok)
	csrf := csrfOf(t, page)
	denyTok := mustToken(t, h.signer, claims(ChoiceDeny))
	p, d := strings.Split(tok, "."), strings.Split(denyTok, ".")
	mixed := strings.Join([]string{p[0], p[1], d[2], p[3]}, ".")
	tampered := []byte(tok)
	tampered[10] ^= 1

	if code, _ := h.open(t, string(tampered)); code != http.StatusForbidden {
		t.Errorf("GET tampered = %d", code)
	}
	if code, _ := h.confirm(t, string(tampered), csrf, "bob", nil); code != http.StatusForbidden {
		t.Errorf("POST tampered = %d", code)
	}
	if code, _ := h.confirm(t, mixed, csrf, "bob", nil); code != http.StatusForbidden {
		t.Errorf("POST other choice = %d", code)
	}
	if code, _ := h.confirm(t, tok, "", "bob", nil); code != http.StatusForbidden {
		t.Errorf("POST without csrf = %d", code)
	}
	if code, _ := h.confirm(t, denyTok, csrf, "bob", nil); code != http.StatusForbidden {
		t.Errorf("POST with another token's csrf = %d", code)
	}
	if code, page := h.confirm(t, tok, csrf, "  ", nil); code != http.StatusBadRequest || !strings.Contains(page, "name or e-mail") {
		t.Errorf("POST without by = %d", code)
	}
	if code, _ := h.open(t, "nope"); code != http.StatusNotFound {
		t.Errorf("GET unknown = %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/approve/"+tok, strings.NewReader(url.Values{"csrf": {csrf}, "by": {"eve"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodDelete, h.srv.URL+"/approve/"+tok, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE = %v %v", resp.StatusCode, err)
	}
	if len(h.decisions()) != 0 {
		t.Fatalf("refused requests decided: %+v", h.decisions())
	}
	// The untouched link still works afterwards.
	if code, _ := h.confirm(t, tok, csrf, "bob", nil); code != 200 {
		t.Fatalf("good POST after refusals = %d", code)
	}
}

func TestHandlerExpired(t *testing.T) {
	h := newHarness(t)
	tok := mustToken(t, h.signer, claims(ChoiceApprove))
	_, page := h.open(t, tok)
	csrf := csrfOf(t, page)
	h.clk.Add(48*time.Hour + time.Second)
	if code, _ := h.open(t, tok); code != http.StatusGone {
		t.Errorf("GET expired = %d", code)
	}
	if code, page := h.confirm(t, tok, csrf, "bob", nil); code != http.StatusGone || !strings.Contains(page, "expired") {
		t.Errorf("POST expired = %d", code)
	}
	if len(h.decisions()) != 0 {
		t.Fatal("expired link decided")
	}
}

func TestHandlerDecideErrors(t *testing.T) {
	h := newHarness(t)
	tok := mustToken(t, h.signer, claims(ChoiceDeny))
	_, page := h.open(t, tok)
	csrf := csrfOf(t, page)

	h.decideE = errors.New("store unavailable")
	if code, page := h.confirm(t, tok, csrf, "carol", nil); code != http.StatusServiceUnavailable || !strings.Contains(page, "try the same link again") {
		t.Fatalf("transient = %d\n%s", code, page)
	}
	h.decideE = fmt.Errorf("send task success: %w", &EndedError{ExecutionARN: "arn:x", Status: "SUCCEEDED"})
	if code, _ := h.confirm(t, tok, csrf, "carol", nil); code != http.StatusConflict {
		t.Fatalf("ended = %d", code)
	}
	h.decideE = nil
	if code, _ := h.confirm(t, tok, csrf, "carol", nil); code != http.StatusGone {
		t.Fatalf("after 409 = %d", code)
	}
}

func TestHandlerConcurrentPostsActOnce(t *testing.T) {
	h := newHarness(t)
	tok := mustToken(t, h.signer, claims(ChoiceApprove))
	_, page := h.open(t, tok)
	csrf := csrfOf(t, page)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := h.confirm(t, tok, csrf, "dave", nil)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		} else if c != http.StatusGone {
			t.Errorf("code %d", c)
		}
	}
	if ok != 1 || len(h.decisions()) != 1 {
		t.Fatalf("ok = %d, decisions = %d", ok, len(h.decisions()))
	}
}

func TestMemoryUsedDropsExpired(t *testing.T) {
	clk := &fakeNow{t: t0}
	m := &MemoryUsed{Now: clk.Now}
	ctx := context.Background()
	if first, _ := m.MarkUsed(ctx, "n1", t0.Add(time.Hour)); !first {
		t.Fatal("first")
	}
	if first, _ := m.MarkUsed(ctx, "n1", t0.Add(time.Hour)); first {
		t.Fatal("second")
	}
	clk.Add(2 * time.Hour)
	m.MarkUsed(ctx, "n2", t0.Add(3*time.Hour))
	if _, ok := m.used["n1"]; ok {
		t.Fatal("expired record kept")
	}
}

func TestNewHandlerNeedsConfig(t *testing.T) {
	if _, err := NewHandler(HandlerConfig{}); err == nil {
		t.Fatal("empty config accepted")
	}
}
