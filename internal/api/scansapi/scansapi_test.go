package scansapi

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

	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/scan"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// pages answers every list call with n volumes.
type pages struct{ n int }

func (p pages) Invoke(ctx context.Context, call *task.Call) (any, error) {
	t, _ := cloud.TargetFrom(ctx)
	var vols []any
	for i := range p.n {
		vols = append(vols, map[string]any{"VolumeId": fmt.Sprintf("vol-%s-%s-%d", t.Account, t.Region, i), "State": "available"})
	}
	return map[string]any{"Volumes": vols}, nil
}

var spec = scan.Spec{Service: "ec2", Action: "DescribeVolumes", Items: "Volumes"}

func newServer(t *testing.T) (*httptest.Server, *storesqlite.DB, *scan.Runner) {
	t.Helper()
	ctx := context.Background()
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "s.db"), storesqlite.Options{Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng := engine.New(engine.Config{Store: db, Tasks: task.NewRegistry(), Owner: "t"})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: "ebs-unused",
		Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"outcome":"compliant"},"End":true}}}`}); err != nil {
		t.Fatal(err)
	}
	targets := []cloud.Target{{Account: "111111111111", Region: "us-east-1"}, {Account: "222222222222", Region: "us-east-1"}}
	r := &scan.Runner{Lister: pages{3}, Targets: func() []cloud.Target { return targets }, Engine: eng, Store: db}
	h := &Handler{Runner: r, Store: db, SpecFunc: func(p string) (scan.Spec, error) {
		if p != "ebs-unused" {
			return scan.Spec{}, fmt.Errorf("%w %q", ErrUnknownPlaybook, p)
		}
		return spec, nil
	}}
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	t.Cleanup(r.Wait)
	return srv, db, r
}

func do(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func TestScansAPI(t *testing.T) {
	srv, _, r := newServer(t)
	var started ScanStarted
	if code := do(t, "POST", srv.URL+"/api/v1/scans", `{"playbook":"ebs-unused","dryRun":true}`, &started); code != http.StatusAccepted || started.Scan == "" {
		t.Fatalf("start: %d %+v", code, started)
	}
	r.Wait()
	var v ScanView
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code := do(t, "GET", srv.URL+"/api/v1/scans/"+started.Scan, "", &v); code != http.StatusOK {
			t.Fatalf("get: %d", code)
		}
		if v.Finished != nil && *v.Finished == 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v.Status != store.ScanSucceeded || v.Listed != 6 || v.Started != 6 || v.Summary == nil || v.Summary.Compliant != 6 || !v.DryRun {
		t.Fatalf("scan view %+v summary %+v", v, v.Summary)
	}
	var list struct{ Scans []ScanView }
	if code := do(t, "GET", srv.URL+"/api/v1/scans?playbook=ebs-unused", "", &list); code != 200 || len(list.Scans) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	for _, tc := range []struct {
		method, path, body string
		code               int
	}{
		{"POST", "/api/v1/scans", `{"playbook":"nope"}`, 404},
		{"POST", "/api/v1/scans", `{"playbook":""}`, 400},
		{"POST", "/api/v1/scans", `{"playbook":"ebs-unused","accounts":["333333333333"]}`, 400},
		{"POST", "/api/v1/scans", `{"playbook":"ebs-unused","bogus":1}`, 400},
		{"POST", "/api/v1/scans", `not json`, 400},
		{"GET", "/api/v1/scans/scan-nope", ``, 404},
		{"GET", "/api/v1/scans?limit=0", ``, 400},
	} {
		var e map[string]string
		if code := do(t, tc.method, srv.URL+tc.path, tc.body, &e); code != tc.code || e["error"] == "" {
			t.Errorf("%s %s %s: %d %v, want %d with an error", tc.method, tc.path, tc.body, code, e, tc.code)
		}
	}
}

func TestSchedulesAPI(t *testing.T) {
	srv, db, _ := newServer(t)
	var v ScheduleView
	if code := do(t, "PUT", srv.URL+"/api/v1/schedules/nightly", `{"cron":"0 6 * * *","playbook":"ebs-unused"}`, &v); code != 200 || !v.Enabled || v.Cron != "0 6 * * *" {
		t.Fatalf("put: %d %+v", code, v)
	}
	if v.NextRun.Hour() != 6 || v.NextRun.Minute() != 0 || !v.NextRun.After(time.Now()) {
		t.Errorf("next run %v", v.NextRun)
	}
	var e map[string]string
	if code := do(t, "PUT", srv.URL+"/api/v1/schedules/weekly", `{"cron":"0 6 * *","playbook":"ebs-unused"}`, &e); code != 400 || !strings.Contains(e["error"], `"weekly"`) {
		t.Errorf("bad cron: %d %v, want 400 naming the schedule", code, e)
	}
	if code := do(t, "PUT", srv.URL+"/api/v1/schedules/x", `{"cron":"0 6 * * *","playbook":"nope"}`, &e); code != 400 {
		t.Errorf("unknown playbook: %d", code)
	}
	if code := do(t, "PUT", srv.URL+"/api/v1/schedules/playbook%2Febs-unused", `{"cron":"0 6 * * *","playbook":"ebs-unused"}`, &e); code != 400 {
		t.Errorf("catalogue schedule: %d", code)
	}
	var list struct{ Schedules []ScheduleView }
	if code := do(t, "GET", srv.URL+"/api/v1/schedules", "", &list); code != 200 || len(list.Schedules) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := do(t, "DELETE", srv.URL+"/api/v1/schedules/nightly", "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := do(t, "DELETE", srv.URL+"/api/v1/schedules/nightly", "", nil); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
	if l, _ := db.ListSchedules(context.Background()); len(l) != 0 {
		t.Fatalf("%d schedules left", len(l))
	}
}
