package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

type starter struct {
	mu    sync.Mutex
	names map[string]bool
}

func (s *starter) StartPlaybook(_ context.Context, playbook, name string, _ []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names = map[string]bool{}
	}
	s.names[name] = true
	return "arn:exec:" + playbook + ":" + name, nil
}

func do(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestEventsAndRulesAPI(t *testing.T) {
	ctx := context.Background()
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set := rules.NewSet(func(name string) bool { return name == "s3-dangling-dns" })
	st := &starter{}
	d := &rules.Dispatcher{Events: db, Rules: set, Starter: st}
	h := (&Handler{Events: db, Rules: set, Dispatcher: d}).Routes()

	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"version":"0","id":"ev-1","source":"aws.s3","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"DeleteBucket","requestParameters":{"bucketName":"b1"}}}`)
	db.AppendEvents(ctx, []store.Event{{ID: "ev-1", Source: "aws.s3", Received: t0, Time: t0, Via: "http", Body: body}})
	if _, err := d.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.names) != 0 {
		t.Fatalf("no rule yet, but started %v", st.names)
	}

	rule := `{"pattern":{"source":["aws.s3"],"detail":{"eventName":["DeleteBucket"]}},"playbooks":["s3-dangling-dns"]}`
	if code, out := do(t, h, "PUT", "/api/v1/rules/dangling", strings.Replace(rule, "s3-dangling-dns", "nope", 1)); code != 400 || !strings.Contains(out["error"].(string), `unknown playbook "nope"`) {
		t.Errorf("rule with an unknown playbook: %d %v", code, out)
	}
	if code, out := do(t, h, "PUT", "/api/v1/rules/dangling", `{"pattern":{"source":"aws.s3"},"playbooks":["s3-dangling-dns"]}`); code != 400 || !strings.Contains(out["error"].(string), "pattern") {
		t.Errorf("rule with an invalid pattern: %d %v", code, out)
	}
	if code, out := do(t, h, "PUT", "/api/v1/rules/dangling", rule); code != 200 {
		t.Fatalf("put rule: %d %v", code, out)
	}
	if stored, _ := db.ListRules(ctx); len(stored) != 1 {
		t.Errorf("stored rules: %v", stored)
	}
	if code, out := do(t, h, "GET", "/api/v1/rules", ""); code != 200 || len(out["rules"].([]any)) != 1 {
		t.Errorf("list rules: %d %v", code, out)
	}

	// Replay: a dry run says what would start; a real one starts it once.
	since := `"` + t0.Add(-time.Hour).Format(time.RFC3339) + `"`
	code, out := do(t, h, "POST", "/api/v1/events/replay", `{"since":`+since+`,"dryRun":true}`)
	if code != 200 || out["events"].(float64) != 1 || out["started"].(float64) != 0 || len(out["matches"].([]any)) != 1 || len(st.names) != 0 {
		t.Errorf("dry run: %d %v, started %v", code, out, st.names)
	}
	for i := 0; i < 2; i++ {
		code, out = do(t, h, "POST", "/api/v1/events/replay", `{"since":`+since+`}`)
		if code != 200 || out["started"].(float64) != 1 {
			t.Errorf("replay %d: %d %v", i, code, out)
		}
	}
	if len(st.names) != 1 {
		t.Errorf("replaying twice started %d distinct executions, want 1", len(st.names))
	}
	code, out = do(t, h, "GET", "/api/v1/events/ev-1", "")
	if code != 200 || len(out["matches"].([]any)) != 1 || !bytes.Contains([]byte(out["event"].(map[string]any)["id"].(string)), []byte("ev-1")) {
		t.Errorf("get event: %d %v", code, out)
	}
	code, out = do(t, h, "GET", "/api/v1/events?rule=dangling&since=2h", "")
	if code != 200 {
		t.Errorf("list by rule: %d %v", code, out)
	}
	if code, _ := do(t, h, "GET", "/api/v1/events?since=yesterday", ""); code != 400 {
		t.Errorf("bad since: %d", code)
	}
	if code, _ := do(t, h, "GET", "/api/v1/events/nope", ""); code != 404 {
		t.Errorf("unknown event: %d", code)
	}
	if code, _ := do(t, h, "DELETE", "/api/v1/rules/dangling", ""); code != 204 {
		t.Errorf("delete rule: %d", code)
	}
	if code, _ := do(t, h, "DELETE", "/api/v1/rules/dangling", ""); code != 404 {
		t.Errorf("delete again: %d", code)
	}

	// Rules saved through the API come back after a restart.
	do(t, h, "PUT", "/api/v1/rules/again", rule)
	fresh := rules.NewSet(func(name string) bool { return name == "s3-dangling-dns" })
	if err := LoadRules(ctx, db, fresh); err != nil || len(fresh.List()) != 1 {
		t.Errorf("reload: %v %v", fresh.List(), err)
	}
}
