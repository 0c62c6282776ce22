package changesapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

const exec1 = "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:e1"

// fakeRollback answers by target.
type fakeRollback struct{}

func (fakeRollback) Rollback(_ context.Context, target, by string) (*change.RollbackResult, error) {
	switch target {
	case "ch-drift":
		return nil, fmt.Errorf("rollback: %w", &change.DriftError{ChangeID: "ch-drift", Service: "ec2", Action: "RevokeSecurityGroupIngress", Resource: "sg-1",
			Diffs: []change.Diff{{Path: "IpPermissions[+]", Now: "8080"}}})
	case "ch-irr":
		return nil, &change.IrreversibleError{Changes: []change.IrreversibleChange{{ChangeID: "ch-irr", Why: "snapshot snap-1"}}}
	case "ch-none":
		return nil, change.ErrNothingToRollBack
	}
	return &change.RollbackResult{Target: target, RolledBack: []string{target}, Calls: 1}, nil
}

func (f fakeRollback) CheckRollback(ctx context.Context, target string) (*change.RollbackResult, error) {
	res, err := f.Rollback(ctx, target, "x")
	if res != nil {
		res.DryRun = true
	}
	return res, err
}

func newServer(t *testing.T) (*httptest.Server, *storesqlite.DB) {
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "s.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mux := http.NewServeMux()
	(&Handler{Store: db, Rollback: fakeRollback{}}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, db
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	resp, err := srv.Client().Do(req)
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

func TestChangesAPI(t *testing.T) {
	srv, db := newServer(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		st := store.StatusApplied
		if i%2 == 1 {
			st = store.StatusPlanned
		}
		if _, err := db.CreateChange(ctx, store.Change{ID: fmt.Sprint("ch-", i), ExecutionARN: exec1, Playbook: "ebs-unused", Kind: store.KindCall,
			Status: st, Service: "ec2", Action: "DeleteVolume", Before: json.RawMessage(`{"VolumeId":"vol-1"}`), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var list ListResponse
	if code := do(t, srv, "GET", "/api/v1/changes?execution="+exec1+"&status=applied", "", &list); code != 200 || len(list.Changes) != 3 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := do(t, srv, "GET", "/api/v1/changes?limit=2", "", &list); code != 200 || len(list.Changes) != 2 || list.NextAfter == 0 {
		t.Fatalf("page: %d %+v", code, list)
	}
	if code := do(t, srv, "GET", fmt.Sprint("/api/v1/changes?after=", list.NextAfter), "", &list); code != 200 || len(list.Changes) != 3 {
		t.Fatalf("next page: %d %+v", code, list)
	}
	var errBody map[string]any
	if code := do(t, srv, "GET", "/api/v1/changes?status=done", "", &errBody); code != 400 || !strings.Contains(fmt.Sprint(errBody["error"]), "status") {
		t.Fatalf("bad status: %d %v", code, errBody)
	}
	var c store.Change
	if code := do(t, srv, "GET", "/api/v1/changes/ch-0", "", &c); code != 200 || c.ID != "ch-0" || string(c.Before) != `{"VolumeId":"vol-1"}` {
		t.Fatalf("get: %d %+v", code, c)
	}
	if code := do(t, srv, "GET", "/api/v1/changes/ch-x", "", nil); code != 404 {
		t.Fatalf("get unknown: %d", code)
	}

	var res change.RollbackResult
	if code := do(t, srv, "POST", "/api/v1/rollback", `{"target":"`+exec1+`","by":"alice"}`, &res); code != 200 || res.RolledBack[0] != exec1 {
		t.Fatalf("rollback: %d %+v", code, res)
	}
	res = change.RollbackResult{}
	if code := do(t, srv, "POST", "/api/v1/rollback", `{"target":"`+exec1+`","by":"alice","dryRun":true}`, &res); code != 200 || !res.DryRun {
		t.Fatalf("dry run: %d %+v", code, res)
	}
	var rb RollbackError
	if code := do(t, srv, "POST", "/api/v1/rollback", `{"target":"ch-drift","by":"alice"}`, &rb); code != 409 || rb.Code != change.ErrNameDrift || len(rb.Drift) != 1 {
		t.Fatalf("drift: %d %+v", code, rb)
	}
	rb = RollbackError{}
	if code := do(t, srv, "POST", "/api/v1/rollback", `{"target":"ch-irr","by":"alice"}`, &rb); code != 409 || rb.Code != change.ErrNameIrreversible || len(rb.Irreversible) != 1 {
		t.Fatalf("irreversible: %d %+v", code, rb)
	}
	for _, body := range []string{`{"target":"ch-1"}`, `{"target":"vol-1","by":"a"}`, `not json`, `{"target":"ch-1","by":"a","x":1}`} {
		if code := do(t, srv, "POST", "/api/v1/rollback", body, nil); code != 400 {
			t.Errorf("%s: %d, want 400", body, code)
		}
	}

	if err := db.PausePlaybook(ctx, store.PlaybookPause{Playbook: "ebs-unused", Reason: "blast radius", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var pauses PausesResponse
	if code := do(t, srv, "GET", "/api/v1/pauses", "", &pauses); code != 200 || len(pauses.Pauses) != 1 || pauses.Pauses[0].Reason != "blast radius" {
		t.Fatalf("pauses: %d %+v", code, pauses)
	}
	if code := do(t, srv, "POST", "/api/v1/playbooks/ebs-unused/resume", "", nil); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	if code := do(t, srv, "POST", "/api/v1/playbooks/ebs-unused/resume", "", nil); code != 404 {
		t.Fatalf("resume again: %d", code)
	}
}

func FuzzDecodeRollbackRequest(f *testing.F) {
	for _, s := range []string{`{"target":"ch-1","by":"a"}`, `{"target":"` + exec1 + `","by":"a"}`, `{}`, `[`, `{"target":"ch-1","by":"a"} {}`, `{"target":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRollbackRequest(bytes.NewReader(data))
		if err == nil {
			if req.By == "" {
				t.Fatal("accepted without by")
			}
			if _, err := change.ParseTarget(req.Target); err != nil {
				t.Fatalf("accepted a bad target %q", req.Target)
			}
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("status=applied&limit=10&after=3&execution=x")
	f.Add("limit=0&kind=notice")
	f.Add("limit=-1&after=zz&status=%00")
	f.Fuzz(func(t *testing.T, q string) {
		vals := map[string][]string{}
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			vals[k] = append(vals[k], v)
		}
		fl, err := ParseFilter(vals)
		if err == nil && (fl.Limit < 0 || fl.Limit > 1000 || fl.AfterSeq < 0) {
			t.Fatalf("accepted %+v", fl)
		}
	})
}
