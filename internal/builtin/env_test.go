package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/task"
)

// The tests talk to AWS only through SDK clients over HTTP, to an
// internal/awssim started here; the sim is touched only to seed it.

const (
	homeAccount = "999999999999"
	acct        = "111111111111"
	acct2       = "222222222222"
	region      = "us-east-1"
	homeKey     = "AKIDSTEWARDHOME"
	homeSecret  = "steward-secret"
	execARN     = "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	sim   *awssim.Sim
	clock *clock.Fake
	cloud *cloud.Cloud
	logs  *logBuf
}

type logBuf struct{ lines []string }

func (l *logBuf) Logf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env {
	t.Helper()
	fc := clock.NewFake(t0)
	s := awssim.New(awssim.Options{Now: fc.Now})
	for _, a := range []awssim.AccountInfo{{ID: homeAccount, Name: "home"}, {ID: acct, Name: "dev", Class: "development"}, {ID: acct2, Name: "prod", Class: "production"}} {
		if err := s.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCredential(awssim.Credential{AccessKeyID: homeKey, SecretAccessKey: homeSecret, Account: homeAccount}); err != nil {
		t.Fatal(err)
	}
	url, stop := s.Start()
	t.Cleanup(stop)
	inv := cloud.NewInventory([]cloud.Account{
		{ID: acct, Class: "development", Regions: []string{region, "eu-west-1"}, Role: cloud.RoleFor("arn:aws:iam::{account}:role/steward", acct)},
		{ID: acct2, Class: "production", Regions: []string{region}, Role: cloud.RoleFor("arn:aws:iam::{account}:role/steward", acct2)},
	})
	c, err := cloud.New(context.Background(), cloud.Config{Inventory: inv, Endpoint: url, Clock: fc,
		Credentials: credentials.NewStaticCredentialsProvider(homeKey, homeSecret, ""),
		Rate:        cloud.Rate{Limit: 1000, Burst: 1000}, BaseDelay: 50 * time.Microsecond, MaxBackoff: time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	return &env{sim: s, clock: fc, cloud: c, logs: &logBuf{}}
}

func (e *env) tasks(mod func(*Deps)) *Tasks {
	d := Deps{Cloud: e.cloud, Clock: e.clock, Logf: e.logs.Logf}
	if mod != nil {
		mod(&d)
	}
	return New(d)
}

func volARN(id string) string { return "arn:aws:ec2:us-east-1:" + acct + ":volume/" + id }

// seedVolume adds an available volume with tags.
func (e *env) seedVolume(t *testing.T, id string, tags map[string]string) {
	t.Helper()
	var ts awssim.Tags
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ts = append(ts, awssim.Tag{Key: k, Value: tags[k]})
	}
	if err := e.sim.AddResources(acct, region, awssim.Resources{Volumes: []awssim.Volume{{ID: id, Size: 8, State: "available", AvailabilityZone: "us-east-1a", Tags: ts}}}); err != nil {
		t.Fatal(err)
	}
}

// tagsOf reads a resource's tags back through the tagging API's
// GetResources (an SDK client over HTTP).
func (e *env) tagsOf(t *testing.T, account, reg, arn string) map[string]string {
	t.Helper()
	cl, err := cloud.ClientFor[*resourcegroupstaggingapi.Client](context.Background(), e.cloud, "resourcegroupstaggingapi", account, reg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	p := resourcegroupstaggingapi.NewGetResourcesPaginator(cl, &resourcegroupstaggingapi.GetResourcesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.ResourceTagMappingList {
			if aws.ToString(m.ResourceARN) != arn {
				continue
			}
			for _, tg := range m.Tags {
				out[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
	}
	return out
}

// jsonValue decodes s into steward's value model (UseNumber).
func jsonValue(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// call invokes a built-in task through a registry, as the engine does.
func call(t *testing.T, tk *Tasks, resource, in string, execInput string) (map[string]any, error) {
	t.Helper()
	reg := task.NewRegistry()
	reg.Register(ResourceTag, task.HandlerFunc(tk.Tag))
	reg.Register(ResourceUntag, task.HandlerFunc(tk.Untag))
	reg.Register(ResourceLastSeen, task.HandlerFunc(tk.LastSeen))
	reg.Register(ResourceException, task.HandlerFunc(tk.Exception))
	reg.Register(ResourceOwner, task.HandlerFunc(tk.Owner))
	reg.Register(ResourceNotify, task.HandlerFunc(tk.Notify))
	h, err := reg.Resolve(resource)
	if err != nil {
		t.Fatal(err)
	}
	if execInput == "" {
		execInput = `{"account": "` + acct + `", "region": "` + region + `"}`
	}
	out, err := h.Invoke(context.Background(), &task.Call{Resource: resource, Input: jsonValue(t, in), ExecutionID: execARN,
		StateName: "S", ExecutionInput: jsonValue(t, execInput)})
	if err != nil {
		return nil, err
	}
	// Round-trip through JSON as the engine stores results.
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("%s: result does not encode: %v", resource, err)
	}
	m, _ := jsonValue(t, string(b)).(map[string]any)
	return m, nil
}

func mustCall(t *testing.T, tk *Tasks, resource, in, execInput string) map[string]any {
	t.Helper()
	out, err := call(t, tk, resource, in, execInput)
	if err != nil {
		t.Fatalf("%s %s: %v", resource, in, err)
	}
	return out
}

func aslName(err error) string {
	var ae *asl.Error
	if errors.As(err, &ae) {
		return ae.Name
	}
	return ""
}

// sharedTestdata is /work/shared/testdata found from the module root, or
// "" when absent.
func sharedTestdata(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		return ""
	}
	return td
}

func jsonNumber(s string) json.Number { return json.Number(s) }

// callFor is a call of a task from an execution, in account acct.
func callFor(execution, in string) *task.Call {
	var v any
	d := json.NewDecoder(strings.NewReader(in))
	d.UseNumber()
	_ = d.Decode(&v)
	return &task.Call{Resource: "steward:x", Input: v, ExecutionID: execution,
		ExecutionInput: map[string]any{"account": acct, "region": region}}
}
