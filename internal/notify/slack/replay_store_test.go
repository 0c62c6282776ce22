package slack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

// TestReplayRefusedAcrossRestart: with the store remembering served
// requests, a request replayed to a new handler (a restarted steward, or
// another replica) is refused; one whose decision failed can be retried.
func TestReplayRefusedAcrossRestart(t *testing.T) {
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The store drops records past their expiry by the real clock.
	clk := time.Now()
	decided := 0
	fail := false
	newServer := func() *httptest.Server {
		h, err := NewInteractionHandler(InteractionConfig{SigningSecret: "s3cret", Now: func() time.Time { return clk }, Used: db,
			Decide: func(context.Context, approve.Decision) error {
				if fail {
					return errors.New("engine unavailable")
				}
				decided++
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	value := EncodeAction("appr-9", "arn:aws:states:us-east-1:000000000000:execution:pb:x", approve.ChoiceApprove)
	payload := blockActions("UALICE", "alice", ActionIDPrefix+"0-0", value)
	status := func(srv *httptest.Server, ts int64) int {
		resp, err := http.DefaultClient.Do(signedRequest(t, srv.URL, "s3cret", ts, payload))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	first := newServer()
	fail = true
	if got := status(first, clk.Unix()-10); got != http.StatusInternalServerError {
		t.Fatalf("failed decision: status %d", got)
	}
	fail = false
	if got := status(first, clk.Unix()-10); got != http.StatusOK || decided != 1 {
		t.Fatalf("retry after a failure: status %d, %d decisions", got, decided)
	}
	restarted := newServer()
	if got := status(restarted, clk.Unix()-10); got != http.StatusUnauthorized || decided != 1 {
		t.Fatalf("replay to a restarted handler: status %d, %d decisions", got, decided)
	}
}
