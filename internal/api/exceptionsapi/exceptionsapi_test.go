package exceptionsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

// granter grants straight into the store, refusing what the policy of
// builtin would (the tag mirroring is builtin's, tested there).
type granter struct{ s store.ExceptionStore }

func (g granter) GrantException(ctx context.Context, e store.Exception, _ builtin.ExceptionPolicy) (store.Exception, error) {
	if e.Until.Sub(now) > 31*24*time.Hour {
		return store.Exception{}, fmt.Errorf("%w: too long", builtin.ErrExceptionTooLong)
	}
	e.GrantedAt = now
	return g.s.GrantException(ctx, e)
}

func (g granter) RevokeException(ctx context.Context, id, by string) (store.Exception, error) {
	return g.s.RevokeException(ctx, id, by, now)
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAPI(t *testing.T) {
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := &Handler{Granter: granter{db}, Store: db, Now: func() time.Time { return now }}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	do := func(method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}
	const vol = "arn:aws:ec2:us-east-1:111111111111:volume/vol-1"
	var e store.Exception
	if code := do("POST", "/api/v1/exceptions", `{"resource": "`+vol+`", "until": "2026-03-15", "by": "alice", "reason": "audit", "playbook": "ebs-unused"}`, &e); code != 201 {
		t.Fatalf("grant: %d", code)
	}
	if e.ID == "" || !e.Until.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)) || e.Channel != "api" || e.Playbook != "ebs-unused" {
		t.Errorf("granted %+v", e)
	}
	var msg map[string]string
	for _, body := range []string{
		`{"resource": "` + vol + `", "until": "2027-03-15", "by": "alice"}`,
		`{"resource": "` + vol + `", "until": "soon", "by": "alice"}`,
		`{"resource": "` + vol + `", "until": "2026-03-15"}`,
		`{"until": "2026-03-15", "by": "a"}`,
		`{"resource": "x", "until": "2026-03-15", "by": "a", "extra": 1}`,
		`not json`,
	} {
		if code := do("POST", "/api/v1/exceptions", body, &msg); code != 400 || msg["error"] == "" {
			t.Errorf("%s: %d %v", body, code, msg)
		}
	}
	var l List
	if code := do("GET", "/api/v1/exceptions?active=true&resource="+vol, "", &l); code != 200 || len(l.Exceptions) != 1 {
		t.Errorf("list: %d %+v", code, l)
	}
	if code := do("GET", "/api/v1/exceptions?limit=x", "", &msg); code != 400 {
		t.Errorf("bad limit: %d", code)
	}
	if code := do("DELETE", "/api/v1/exceptions/"+e.ID, "", &msg); code != 400 {
		t.Errorf("revoke without by: %d", code)
	}
	var rv struct{ Exception store.Exception }
	if code := do("DELETE", "/api/v1/exceptions/"+e.ID+"?by=bob", "", &rv); code != 200 || rv.Exception.RevokedBy != "bob" {
		t.Errorf("revoke: %d %+v", code, rv)
	}
	if code := do("DELETE", "/api/v1/exceptions/"+e.ID+"?by=bob", "", &msg); code != 409 {
		t.Errorf("revoke again: %d", code)
	}
	if code := do("DELETE", "/api/v1/exceptions/exc-nope?by=bob", "", &msg); code != 404 {
		t.Errorf("revoke unknown: %d", code)
	}
	if code := do("GET", "/api/v1/exceptions?active=true", "", &l); code != 200 || len(l.Exceptions) != 0 {
		t.Errorf("active after revoke: %d %+v", code, l)
	}
	if code := do("GET", "/api/v1/exceptions/"+e.ID, "", &e); code != 200 || e.RevokedBy != "bob" {
		t.Errorf("get: %d %+v", code, e)
	}
}

func FuzzDecodeGrantRequest(f *testing.F) {
	for _, s := range []string{
		`{"resource": "arn:aws:ec2:us-east-1:1:volume/v", "until": "2026-03-15", "by": "a"}`,
		`{"resource": "x", "until": "2026-03-15T00:00:00Z", "by": "a", "reason": "r", "playbook": "p"}`,
		`{}`, `[]`, `{"until": 5}`, `{"resource":"a","by":"b","until":"2026-02-30"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, until, err := DecodeGrantRequest(b)
		if err != nil {
			return
		}
		if strings.TrimSpace(req.Resource) == "" || strings.TrimSpace(req.By) == "" || until.IsZero() {
			t.Fatalf("accepted %q as %+v until %v", b, req, until)
		}
	})
}
