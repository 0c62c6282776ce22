package change

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

const (
	acct   = "111111111111"
	region = "us-east-1"
)

const scenario = `
regions: [us-east-1]
credentials:
  - {access_key_id: AKIDTEST, secret_access_key: secret, account: "111111111111"}
accounts:
  - id: "111111111111"
    name: prod
    class: production
    iam:
      policies:
        - name: app-policy
          versions:
            - {id: v1, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}', default: true}
            - {id: v2, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'}
        - name: admin-policy
          versions:
            - {id: v1, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', default: true}
      roles:
        - name: app
          assume_role_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
          attached_policies: ["arn:aws:iam::111111111111:policy/admin-policy"]
      users:
        - name: alice
          access_keys: [{id: AKIAALICE0000000001, secret: s, status: Active}]
    regions:
      us-east-1:
        vpcs: [{id: vpc-1, cidr: 10.0.0.0/16}, {id: vpc-2, cidr: 10.1.0.0/16}]
        instances:
          - {id: i-1, type: t3.micro, state: running, http_tokens: optional, http_endpoint: enabled, http_put_response_hop_limit: 1, security_groups: [sg-1], vpc_id: vpc-1}
          - {id: i-2, type: t3.micro, state: running, vpc_id: vpc-1, security_groups: [sg-1]}
        security_groups:
          - id: sg-1
            name: web
            description: web
            vpc_id: vpc-1
            ingress:
              - {protocol: tcp, from_port: 22, to_port: 22, cidr: 0.0.0.0/0}
              - {protocol: tcp, from_port: 443, to_port: 443, cidr: 0.0.0.0/0}
            egress:
              - {protocol: "-1", cidr: 0.0.0.0/0}
          - {id: sg-2, name: quarantine, description: quarantine, vpc_id: vpc-1}
        internet_gateways: [{id: igw-1, vpc_id: vpc-1}, {id: igw-2}]
        volumes:
          - {id: vol-1, size: 8, state: available, type: gp3, availability_zone: us-east-1a, tags: {team: blue}}
        addresses: [{allocation_id: eipalloc-1, public_ip: 203.0.113.5, domain: vpc}]
        db_instances: [{id: db1, class: db.t3.micro, engine: postgres, status: available, allocated_storage: 20}]
        load_balancers:
          - {arn: "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188", name: web, type: application, scheme: internet-facing, state: active, vpc_id: vpc-1}
    buckets:
      - name: site
        policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}'
      - name: logs
    hosted_zones:
      - id: Z0000000000001
        name: example.com
        records:
          - {name: www.example.com, type: A, ttl: 300, values: [192.0.2.1]}
          - {name: old.example.com, type: CNAME, ttl: 60, values: [gone.example.net]}
    distributions:
      - id: E1OQK8XICQK4UM
        comment: site
        origins: [{domain_name: site.s3.amazonaws.com}]
    findings:
      - json: '{"SchemaVersion":"2018-10-08","Id":"f-1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub","GeneratorId":"S3.2","AwsAccountId":"111111111111","Types":["Software and Configuration Checks"],"CreatedAt":"2026-01-01T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z","Severity":{"Label":"CRITICAL"},"Title":"S3 public read","Description":"d","Compliance":{"Status":"FAILED"},"Workflow":{"Status":"NEW"},"Resources":[{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::site"}]}'
`

// env is a gate over the simulated AWS, on a SQLite store.
type env struct {
	sim    *awssim.Sim
	cloud  *cloud.Cloud
	db     *storesqlite.DB
	reg    *task.Registry
	gate   *Gate
	clock  *clock.Fake
	stages *stageMap

	mu     sync.Mutex
	alerts []string
}

// stageMap is a Resolver tests change as they go.
type stageMap struct {
	mu sync.Mutex
	s  stage.Stage
}

func (m *stageMap) Stage(string, string) stage.Stage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s
}

func (m *stageMap) set(s stage.Stage) {
	m.mu.Lock()
	m.s = s
	m.mu.Unlock()
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	sim := awssim.New(awssim.Options{Now: fc.Now})
	sc, err := awssim.LoadScenario(strings.NewReader(scenario))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Apply(sc); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	t.Cleanup(stop)
	c, err := cloud.New(context.Background(), cloud.Config{
		Inventory:      cloud.NewInventory([]cloud.Account{{ID: acct, Class: "production", Regions: []string{region}}}),
		Credentials:    credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Endpoint:       url,
		Clock:          fc,
		DefaultRegion:  region,
		DefaultAccount: acct,
		Rate:           cloud.Rate{Limit: 10000, Burst: 10000},
		BaseDelay:      50 * time.Microsecond,
		MaxBackoff:     time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{sim: sim, cloud: c, db: db, reg: task.NewRegistry(), clock: fc, stages: &stageMap{s: stage.Enforce}}
	cfg := Config{
		Store:  db,
		Cloud:  c,
		Stages: e.stages,
		ClassOf: func(a string) string {
			if acc, err := c.Inventory().Account(a); err == nil {
				return acc.Class
			}
			return ""
		},
		Alert: func(_ context.Context, playbook, reason string) {
			e.mu.Lock()
			e.alerts = append(e.alerts, playbook+": "+reason)
			e.mu.Unlock()
		},
		Clock: fc,
	}
	if mod != nil {
		mod(&cfg)
	}
	c.Register(e.reg)
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Register(e.reg); err != nil {
		t.Fatal(err)
	}
	e.gate = g
	return e
}

func execARN(playbook, name string) string {
	return "arn:aws:states:us-east-1:" + acct + ":execution:" + playbook + ":" + name
}

func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	v := decode([]byte(s))
	if v == nil && s != "null" {
		t.Fatalf("bad JSON %s", s)
	}
	return v
}

// invoke runs a task as the engine would: resolved in the registry, in
// execution exec, state state, with the idempotency key exec/state.
func (e *env) invoke(t testing.TB, exec, state, resource, params string) (any, error) {
	t.Helper()
	h, err := e.reg.Resolve(resource)
	if err != nil {
		t.Fatal(err)
	}
	return h.Invoke(context.Background(), &task.Call{
		Resource: resource, Input: decodeJSON(t, params), ExecutionID: exec, StateName: state,
		IdempotencyKey: exec + "/" + state + "/1",
		ExecutionInput: map[string]any{"account": acct, "region": region},
	})
}

func (e *env) mustInvoke(t testing.TB, exec, state, resource, params string) obj {
	t.Helper()
	out, err := e.invoke(t, exec, state, resource, params)
	if err != nil {
		t.Fatalf("%s %s: %v", resource, params, err)
	}
	return asObj(normalize(out))
}

// read makes a read-only call straight to the sim (not through the gate).
func (e *env) read(t testing.TB, service, action, params string) obj {
	t.Helper()
	out, err := e.cloud.Invoke(context.Background(), &task.Call{
		Resource: ResourcePrefix + service + ":" + camel(action), Input: decodeJSON(t, params),
		ExecutionInput: map[string]any{"account": acct, "region": region},
	})
	if err != nil {
		t.Fatalf("read %s:%s %s: %v", service, action, params, err)
	}
	return asObj(normalize(out))
}

func (e *env) changes(t testing.TB, exec string) []*store.Change {
	t.Helper()
	list, err := e.db.ListChanges(context.Background(), store.ChangeFilter{ExecutionARN: exec})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func aslName(err error) string {
	var ae *asl.Error
	if errors.As(err, &ae) {
		return ae.Name
	}
	return ""
}

func pretty(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
