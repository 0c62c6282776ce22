package change

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// fakeAWS serves the few calls the simulated AWS does not (StartInstances,
// inline role and user policies, user policy attachments, RDS stop and
// start, bucket public access block deletion) over a map of state, so the
// recipes that use them are tested end to end through the gate.
type fakeAWS struct {
	mu    sync.Mutex
	state map[string]string // "kind/id" -> value
	calls map[string]int
}

func newFakeAWS() *fakeAWS {
	return &fakeAWS{state: map[string]string{
		"instance/i-1":             "running",
		"instance/i-2":             "stopped",
		"db/db1":                   "available",
		"pab/site":                 "",
		"rolepolicy/app/inline":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
		"userattached/alice":       "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"userpolicy/alice/support": "",
		"userpolicy/bob/inline":    `{"Version":"2012-10-17","Statement":[]}`,
		"pab/logs":                 "on",
	}, calls: map[string]int{}}
}

func noSuch(service, code string) error {
	return &asl.Error{Name: service + "." + code, Cause: "not found"}
}

func (f *fakeAWS) Invoke(_ context.Context, call *task.Call) (any, error) {
	svc, act, _ := strings.Cut(strings.TrimPrefix(call.Resource, ResourcePrefix), ":")
	act = pascal(act)
	p := asObj(normalize(call.Input))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[svc+":"+act]++
	switch svc + ":" + act {
	case "ec2:DescribeInstances":
		var insts []any
		for _, id := range strs(p, "InstanceIds") {
			insts = append(insts, obj{"InstanceId": id, "State": obj{"Name": f.state["instance/"+id]}})
		}
		return obj{"Reservations": []any{obj{"Instances": insts}}}, nil
	case "ec2:StopInstances":
		for _, id := range strs(p, "InstanceIds") {
			f.state["instance/"+id] = "stopping"
		}
		return obj{}, nil
	case "ec2:StartInstances":
		for _, id := range strs(p, "InstanceIds") {
			f.state["instance/"+id] = "pending"
		}
		return obj{}, nil
	case "rds:DescribeDBInstances":
		return obj{"DBInstances": []any{obj{"DBInstanceStatus": f.state["db/"+str(p, "DBInstanceIdentifier")]}}}, nil
	case "rds:StopDBInstance":
		f.state["db/"+str(p, "DBInstanceIdentifier")] = "stopping"
		return obj{}, nil
	case "rds:StartDBInstance":
		f.state["db/"+str(p, "DBInstanceIdentifier")] = "starting"
		return obj{}, nil
	case "s3:GetPublicAccessBlock":
		v := f.state["pab/"+str(p, "Bucket")]
		if v == "" {
			return nil, noSuch("S3", "NoSuchPublicAccessBlockConfigurationException")
		}
		return obj{"PublicAccessBlockConfiguration": obj{"BlockPublicAcls": v == "on"}}, nil
	case "s3:PutPublicAccessBlock":
		v := "off"
		if get(p, "PublicAccessBlockConfiguration.BlockPublicAcls") == true {
			v = "on"
		}
		f.state["pab/"+str(p, "Bucket")] = v
		return obj{}, nil
	case "s3:DeletePublicAccessBlock":
		f.state["pab/"+str(p, "Bucket")] = ""
		return obj{}, nil
	case "iam:GetRolePolicy", "iam:GetUserPolicy":
		k := policyKey(act, p)
		if f.state[k] == "" {
			return nil, noSuch("Iam", "NoSuchEntityException")
		}
		return obj{"PolicyDocument": url.QueryEscape(f.state[k])}, nil
	case "iam:PutRolePolicy", "iam:PutUserPolicy":
		f.state[policyKey(act, p)] = str(p, "PolicyDocument")
		return obj{}, nil
	case "iam:DeleteRolePolicy", "iam:DeleteUserPolicy":
		f.state[policyKey(act, p)] = ""
		return obj{}, nil
	case "iam:ListAttachedUserPolicies":
		var out []any
		for _, a := range strings.Fields(f.state["userattached/"+str(p, "UserName")]) {
			out = append(out, obj{"PolicyArn": a})
		}
		return obj{"AttachedPolicies": out}, nil
	case "iam:AttachUserPolicy", "iam:DetachUserPolicy":
		k := "userattached/" + str(p, "UserName")
		set := map[string]bool{}
		for _, a := range strings.Fields(f.state[k]) {
			set[a] = true
		}
		set[str(p, "PolicyArn")] = act == "AttachUserPolicy"
		var l []string
		for a, on := range set {
			if on {
				l = append(l, a)
			}
		}
		sort.Strings(l)
		f.state[k] = strings.Join(l, " ")
		return obj{}, nil
	}
	return nil, fmt.Errorf("fake AWS does not serve %s:%s", svc, act)
}

func policyKey(act string, p obj) string {
	if strings.Contains(act, "Role") {
		return "rolepolicy/" + str(p, "RoleName") + "/" + str(p, "PolicyName")
	}
	return "userpolicy/" + str(p, "UserName") + "/" + str(p, "PolicyName")
}

func (f *fakeAWS) get(k string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return settledState(f.state[k])
}

// newFakeGate is a gate in enforce over the fake AWS.
func newFakeGate(t testing.TB, mod func(*Config)) (*Gate, *task.Registry, *fakeAWS, *storesqlite.DB) {
	t.Helper()
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := newFakeAWS()
	reg := task.NewRegistry()
	reg.Register(ResourcePrefix+"*", f)
	cfg := Config{Store: db, Stages: stage.Fixed(stage.Enforce)}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Register(reg); err != nil {
		t.Fatal(err)
	}
	return g, reg, f, db
}

func TestRecipesRoundTripFake(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[]}`
	cases := []struct {
		name, resource, params, key string
	}{
		{"ec2 StopInstances ↔ StartInstances", "ec2:stopInstances", `{"InstanceIds":["i-1","i-2"]}`, "instance/i-1"},
		{"rds StopDBInstance ↔ StartDBInstance", "rds:stopDBInstance", `{"DBInstanceIdentifier":"db1"}`, "db/db1"},
		{"s3 PutPublicAccessBlock ↔ DeletePublicAccessBlock", "s3:putPublicAccessBlock", `{"Bucket":"site","PublicAccessBlockConfiguration":{"BlockPublicAcls":true}}`, "pab/site"},
		{"iam PutRolePolicy ↔ the old document", "iam:putRolePolicy", `{"RoleName":"app","PolicyName":"inline","PolicyDocument":` + fmt.Sprintf("%q", doc) + `}`, "rolepolicy/app/inline"},
		{"iam PutUserPolicy ↔ DeleteUserPolicy", "iam:putUserPolicy", `{"UserName":"alice","PolicyName":"support","PolicyDocument":` + fmt.Sprintf("%q", doc) + `}`, "userpolicy/alice/support"},
		{"iam DeleteRolePolicy ↔ PutRolePolicy", "iam:deleteRolePolicy", `{"RoleName":"app","PolicyName":"inline"}`, "rolepolicy/app/inline"},
		{"iam DeleteUserPolicy ↔ PutUserPolicy", "iam:deleteUserPolicy", `{"UserName":"bob","PolicyName":"inline"}`, "userpolicy/bob/inline"},
		{"s3 DeletePublicAccessBlock ↔ PutPublicAccessBlock", "s3:deletePublicAccessBlock", `{"Bucket":"logs"}`, "pab/logs"},
		{"iam AttachUserPolicy ↔ Detach", "iam:attachUserPolicy", `{"UserName":"alice","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, "userattached/alice"},
		{"iam DetachUserPolicy ↔ Attach", "iam:detachUserPolicy", `{"UserName":"alice","PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, "userattached/alice"},
	}
	var pass atomic.Int32
	t.Cleanup(func() { t.Logf("recipes round trip on the fake AWS: %d/%d pass", pass.Load(), len(cases)) })
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, reg, f, db := newFakeGate(t, nil)
			exec := execARN("pb", fmt.Sprint("f", i))
			before := f.get(tc.key)
			h, _ := reg.Resolve(ResourcePrefix + tc.resource)
			if _, err := h.Invoke(context.Background(), &task.Call{Resource: ResourcePrefix + tc.resource, Input: decodeJSON(t, tc.params),
				ExecutionID: exec, StateName: "S", IdempotencyKey: exec + "/S"}); err != nil {
				t.Fatal(err)
			}
			if f.get(tc.key) == before {
				t.Fatalf("%s unchanged: %q", tc.key, before)
			}
			list, _ := db.ListChanges(context.Background(), store.ChangeFilter{ExecutionARN: exec})
			if len(list) != 1 || list[0].Status != store.StatusApplied || len(list[0].Undo) == 0 {
				t.Fatalf("record %s", pretty(list))
			}
			if _, err := g.Rollback(context.Background(), exec, "alice"); err != nil {
				t.Fatalf("rollback: %v (undo %s)", err, list[0].Undo)
			}
			if now := f.get(tc.key); now != before {
				t.Fatalf("after rollback %s = %q, want %q (undo %s)", tc.key, now, before, list[0].Undo)
			}
			pass.Add(1)
		})
	}
	// i-2 was stopped before: StopInstances' undo starts only i-1.
	g, reg, f, _ := newFakeGate(t, nil)
	h, _ := reg.Resolve(ResourcePrefix + "ec2:stopInstances")
	exec := execARN("pb", "stop")
	if _, err := h.Invoke(context.Background(), &task.Call{Resource: ResourcePrefix + "ec2:stopInstances", Input: decodeJSON(t, `{"InstanceIds":["i-1","i-2"]}`), ExecutionID: exec, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Rollback(context.Background(), exec, "a"); err != nil {
		t.Fatal(err)
	}
	if f.get("instance/i-2") != "stopped" || f.get("instance/i-1") != "running" {
		t.Fatalf("states after rollback: %v", f.state)
	}
}

func TestBlastRadiusConcurrentCalls(t *testing.T) {
	var alerts int
	var mu sync.Mutex
	_, reg, f, db := newFakeGate(t, func(c *Config) {
		c.Limits = func(string) (int, int) { return 5, 0 }
		c.Alert = func(context.Context, string, string) { mu.Lock(); alerts++; mu.Unlock() }
	})
	h, _ := reg.Resolve(ResourcePrefix + "rds:stopDBInstance")
	exec := execARN("pb", "map")
	var wg sync.WaitGroup
	var failed sync.Map
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := h.Invoke(context.Background(), &task.Call{Resource: ResourcePrefix + "rds:stopDBInstance", Input: decodeJSON(t, `{"DBInstanceIdentifier":"db1"}`),
				ExecutionID: exec, StateName: "Stop", IdempotencyKey: fmt.Sprint("iter-", i)})
			if err != nil {
				failed.Store(i, aslName(err))
			}
		}(i)
	}
	wg.Wait()
	n, _ := db.CountApplied(context.Background(), "pb", exec, zeroTime)
	if n != 5 {
		var why []string
		failed.Range(func(k, v any) bool { why = append(why, fmt.Sprint(k, ": ", v)); return true })
		t.Fatalf("%d changes applied in a run of limit 5; failures: %v", n, why)
	}
	f.mu.Lock()
	made := f.calls["rds:StopDBInstance"]
	f.mu.Unlock()
	if made != 5 {
		t.Fatalf("%d calls made", made)
	}
	failed.Range(func(_, v any) bool {
		if v != ErrNameBlastRadiusExceeded && v != ErrNamePlaybookPaused {
			t.Errorf("failed with %v", v)
		}
		return true
	})
	if alerts == 0 {
		t.Error("no alert")
	}
}

var zeroTime = time.Time{}

// laggingAWS shows a change to reads only some reads after it (as IAM's
// eventual consistency does).
type laggingAWS struct {
	*fakeAWS
	lag   int // reads still stale after a change
	stale string
}

func (l *laggingAWS) Invoke(ctx context.Context, call *task.Call) (any, error) {
	if strings.HasSuffix(call.Resource, ":describeDBInstances") {
		l.fakeAWS.mu.Lock()
		if l.lag > 0 {
			l.lag--
			l.fakeAWS.mu.Unlock()
			return obj{"DBInstances": []any{obj{"DBInstanceStatus": l.stale}}}, nil
		}
		l.fakeAWS.mu.Unlock()
	}
	return l.fakeAWS.Invoke(ctx, call)
}

func TestAfterReadWaitsForEventualConsistency(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	aws := &laggingAWS{fakeAWS: newFakeAWS(), stale: "available"}
	reg := task.NewRegistry()
	reg.Register(ResourcePrefix+"*", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		if strings.HasSuffix(c.Resource, ":stopDBInstance") {
			aws.mu.Lock()
			aws.lag = 2 // the next two reads still say available
			aws.mu.Unlock()
		}
		return aws.Invoke(ctx, c)
	}))
	g, _ := New(Config{Store: db, Stages: stage.Fixed(stage.Enforce), Clock: fc, SettleReads: 3, SettleDelay: time.Second})
	if err := g.Register(reg); err != nil {
		t.Fatal(err)
	}
	h, _ := reg.Resolve(ResourcePrefix + "rds:stopDBInstance")
	done := make(chan error, 1)
	go func() {
		_, err := h.Invoke(context.Background(), &task.Call{Resource: ResourcePrefix + "rds:stopDBInstance", Input: decodeJSON(t, `{"DBInstanceIdentifier":"db1"}`),
			ExecutionID: execARN("rds-idle", "e"), IdempotencyKey: "k"})
		done <- err
	}()
	waits := 0
	for {
		changed := fc.Changed() // before looking, so no timer is missed
		if fc.Pending() > 0 {
			waits++
			fc.Advance(time.Duration(waits) * 2 * time.Second)
			continue
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			c, _ := db.GetChangeByKey(context.Background(), "k")
			if str(decode(c.After), "DBInstanceStatus") != "stopped" || waits != 2 {
				t.Fatalf("after %s after %d waits", c.After, waits)
			}
			return
		case <-changed:
		}
	}
}
