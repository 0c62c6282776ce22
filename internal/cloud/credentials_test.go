package cloud

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func stsCalls(c *Cloud) int64 {
	return c.Stats()[Key{Region: c.cfg.HomeRegion, Service: "sts"}].Calls
}

func TestAssumeRoleSingleFlight(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	var wg sync.WaitGroup
	keys := make([]string, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, err := c.Credentials(context.Background(), testAccounts[0])
			keys[i], errs[i] = cr.AccessKeyID, err
		}()
	}
	wg.Wait()
	for i := range 100 {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("caller %d got key %s, caller 0 got %s", i, keys[i], keys[0])
		}
	}
	if n := stsCalls(c); n != 1 {
		t.Fatalf("100 concurrent callers made %d AssumeRole calls, want 1", n)
	}
	t.Logf("100 concurrent callers: 1 AssumeRole call")
}

func TestAssumeRoleCacheAndRefresh(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, func(cfg *Config) { cfg.SessionDuration = time.Hour; cfg.RefreshBefore = 5 * time.Minute })
	ctx := context.Background()
	first, err := c.Credentials(ctx, testAccounts[1])
	if err != nil {
		t.Fatal(err)
	}
	if !first.CanExpire || first.Expires.IsZero() {
		t.Fatalf("assumed-role credentials should expire: %+v", first)
	}
	e.clock.Advance(50 * time.Minute)
	again, err := c.Credentials(ctx, testAccounts[1])
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessKeyID != first.AccessKeyID || stsCalls(c) != 1 {
		t.Fatalf("at 50 minutes: want the cached key and 1 AssumeRole, got %s and %d", again.AccessKeyID, stsCalls(c))
	}
	e.clock.Set(first.Expires.Add(-4 * time.Minute)) // inside the refresh window
	renewed, err := c.Credentials(ctx, testAccounts[1])
	if err != nil {
		t.Fatal(err)
	}
	if renewed.AccessKeyID == first.AccessKeyID || stsCalls(c) != 2 {
		t.Fatalf("inside the refresh window: want a new key and 2 AssumeRole calls, got %s and %d", renewed.AccessKeyID, stsCalls(c))
	}
	// The renewed credentials work. (On an external endpoint, whose clock
	// the fake clock does not move, they may be renewed again here.)
	cl, err := ClientFor[*sts.Client](ctx, c, "sts", testAccounts[1], testRegions[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *out.Account; got != testAccounts[1] {
		t.Fatalf("GetCallerIdentity account %s, want %s", got, testAccounts[1])
	}
	// Other accounts have their own cache entries.
	before := stsCalls(c)
	if _, err := c.Credentials(ctx, testAccounts[2]); err != nil {
		t.Fatal(err)
	}
	if stsCalls(c) != before+1 {
		t.Fatalf("a second account: want 1 more AssumeRole call, got %d", stsCalls(c)-before)
	}
}

func TestCredentialsErrors(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx := context.Background()
	if _, err := c.Credentials(ctx, "123456789012"); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("account outside the inventory: got %v, want ErrUnknownAccount", err)
	}
	if _, err := c.Client(ctx, "ec2", testAccounts[0], "mars-north-1"); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("bad region: got %v, want ErrUnknownRegion", err)
	}
	if _, err := c.Client(ctx, "ec2", testAccounts[0], "sa-east-1"); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("region outside the inventory: got %v, want ErrUnknownRegion", err)
	}
	if _, err := c.Client(ctx, "lambda", testAccounts[0], testRegions[0]); !errors.Is(err, ErrUnknownService) {
		t.Fatalf("unknown service: got %v, want ErrUnknownService", err)
	}
	e.needSim(t, "an account the endpoint does not know")
	// An account the inventory lists but AWS does not know: AssumeRole is
	// denied, and the error says which role.
	inv := testInventory().Merge(NewInventory([]Account{{ID: "777777777777", Regions: testRegions, Role: RoleFor(roleTmpl, "777777777777")}}))
	c2 := e.cloud(t, func(cfg *Config) { cfg.Inventory = inv })
	_, err := c2.Credentials(ctx, "777777777777")
	var are *AssumeRoleError
	if !errors.As(err, &are) || !errors.Is(err, ErrAssumeRole) || are.Code != "AccessDenied" {
		t.Fatalf("unknown account: got %v, want an AssumeRoleError with code AccessDenied", err)
	}
	// A failure is not cached: the next call tries again.
	before := stsCalls(c2)
	_, _ = c2.Credentials(ctx, "777777777777")
	if stsCalls(c2) != before+1 {
		t.Fatalf("failed AssumeRole was cached")
	}
}

func TestCallerGivesUpWithoutFailingOthers(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Credentials(ctx, testAccounts[3]); err == nil {
		// The flight may have finished before the select saw ctx; either is fine.
		t.Log("flight finished before the cancelled caller looked")
	}
	if _, err := c.Credentials(context.Background(), testAccounts[3]); err != nil {
		t.Fatalf("a later caller failed: %v", err)
	}
}

// TestPlainHTTPEndpointWithCABundle: AWS_CA_BUNDLE (here one that does
// not even exist) must not stop a plain-http endpoint from working, with
// the endpoint and credentials taken from the environment.
func TestPlainHTTPEndpointWithCABundle(t *testing.T) {
	e := newEnv(t)
	if !strings.HasPrefix(e.endpoint, "http://") {
		t.Skipf("endpoint %s is not plain http", e.endpoint)
	}
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing-ca.pem"))
	t.Setenv("AWS_ENDPOINT_URL", e.endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", homeKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", homeSecret)
	c, err := New(context.Background(), Config{Inventory: testInventory()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != e.endpoint {
		t.Fatalf("endpoint %q, want AWS_ENDPOINT_URL %q", c.Endpoint(), e.endpoint)
	}
	cl, err := ClientFor[*sts.Client](context.Background(), c, "sts", testAccounts[4], testRegions[2])
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != testAccounts[4] {
		t.Fatalf("account %s", *out.Account)
	}
	// Config.Endpoint wins over AWS_ENDPOINT_URL.
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	c2, err := New(context.Background(), Config{Endpoint: e.endpoint + "/"})
	if err != nil || c2.Endpoint() != e.endpoint {
		t.Fatalf("Config.Endpoint: %v %q", err, c2.Endpoint())
	}
	// An https endpoint does need a readable bundle.
	if _, err := New(context.Background(), Config{Endpoint: "https://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Fatalf("https endpoint with a missing bundle: %v", err)
	}
}
