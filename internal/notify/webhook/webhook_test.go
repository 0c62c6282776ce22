package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

func TestWebhook(t *testing.T) {
	now := time.Unix(1800000000, 0)
	secret := []byte("webhook-secret")
	var mu sync.Mutex
	var bodies [][]byte
	var failFirst = 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if failFirst > 0 {
			failFirst--
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if err := Verify(secret, r.Header, b, now, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		bodies = append(bodies, b)
	}))
	defer srv.Close()
	var waits []time.Duration
	s := New(Config{Secret: secret, Now: func() time.Time { return now },
		Retry: notify.RetryPolicy{SleepFunc: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}})
	n := notify.Notice{ApprovalID: "a1", Playbook: "sg-open-ingress", Title: "SSH open to the world", ExecutionARN: "arn:x",
		Resources: []notify.Resource{{Account: "111111111111", Region: "eu-west-1", ID: "sg-1"}}, Choices: notify.Choices(false, func(c approve.Choice) string { return "https://s/approve/" + string(c) })}
	to := notify.Recipient{Kind: notify.KindWebhook, Address: srv.URL + "/hook?token=abc"}
	rc, err := s.Notify(context.Background(), to, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || fmt.Sprint(waits) != "[2s]" {
		t.Fatalf("bodies %d waits %v", len(bodies), waits)
	}
	var p Payload
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "1" || p.Delivery != rc.ID || len(p.Notices) != 1 || p.Notices[0].Choices[0].URL != "https://s/approve/approve" || !strings.Contains(p.Text, "sg-1") {
		t.Fatalf("payload %+v", p)
	}

	// Permanent failure: 4xx, not retried, URL query not in the error.
	bad := New(Config{Secret: []byte("other"), Now: func() time.Time { return now }})
	_, err = bad.Notify(context.Background(), to, n)
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Transient || de.Attempts != 1 || strings.Contains(err.Error(), "abc") {
		t.Fatalf("401: %v", err)
	}
	if _, err := s.Notify(context.Background(), to); !errors.Is(err, notify.ErrNoNotices) {
		t.Fatalf("no notices: %v", err)
	}
	if _, err := s.Notify(context.Background(), notify.Recipient{Kind: notify.KindWebhook, Address: "file:///etc/passwd"}, n); err == nil {
		t.Fatal("file URL accepted")
	}
	h := http.Header{}
	h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()-600))
	h.Set(HeaderSignature, Sign(secret, now.Unix()-600, []byte("x")))
	if Verify(secret, h, []byte("x"), now, 5*time.Minute) == nil {
		t.Fatal("stale signature accepted")
	}
}
