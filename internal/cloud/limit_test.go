package cloud

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/stewardhq/steward/internal/awssim"
)

func TestJitterBackoff(t *testing.T) {
	b := jitterBackoff{base: time.Second, max: 20 * time.Second}
	tests := []struct {
		attempt int
		ceil    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {5, 16 * time.Second}, {6, 20 * time.Second}, {100, 20 * time.Second}, {0, time.Second}}
	for _, tt := range tests {
		for range 200 {
			d, err := b.BackoffDelay(tt.attempt, nil)
			if err != nil || d < 0 || d >= tt.ceil {
				t.Fatalf("attempt %d: delay %v, err %v; want [0, %v)", tt.attempt, d, err, tt.ceil)
			}
		}
	}
}

func TestRetryerIsStandardWithoutQuota(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	r := c.newRetryer()
	if r.MaxAttempts() < 1000 {
		t.Fatalf("MaxAttempts %d: calls must not give up on throttling", r.MaxAttempts())
	}
	// With no retry quota, thousands of retry tokens are always granted.
	for i := range 5000 {
		if _, err := r.GetRetryToken(context.Background(), errors.New("x")); err != nil {
			t.Fatalf("retry token %d refused: %v", i, err)
		}
	}
}

// TestRateLimiterPerKey: with a bucket of 2 and a glacial refill, two
// calls pass, the third cannot get a token before its deadline (the
// limiter says so at once, without sleeping), and another region's
// bucket is untouched.
func TestRateLimiterPerKey(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, func(cfg *Config) { cfg.Rates = map[string]Rate{"ec2": {Limit: 0.001, Burst: 2}} })
	ctx := context.Background()
	cl, err := ClientFor[*ec2.Client](ctx, c, "ec2", testAccounts[0], testRegions[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := cl.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = cl.DescribeVolumes(dctx, &ec2.DescribeVolumesInput{})
	if err == nil {
		t.Fatal("third call passed an empty bucket")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("the limiter slept %v instead of failing at once", time.Since(start))
	}
	other, err := ClientFor[*ec2.Client](ctx, c, "ec2", testAccounts[0], testRegions[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); err != nil {
		t.Fatalf("another region's bucket: %v", err)
	}
	st := c.Stats()[Key{Account: testAccounts[0], Region: testRegions[0], Service: "ec2"}]
	if st.Attempts != 2 || st.Calls != 3 {
		t.Fatalf("stats %+v: want 3 calls, 2 attempts through the bucket", st)
	}
}

// scanVolumes lists every volume of every target in parallel, with the
// largest page EC2 allows and the filters given, and counts each id.
func scanVolumes(t testing.TB, c *Cloud, targets []Target, filters []ec2types.Filter) map[string]int {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	err := ForEachTarget(context.Background(), targets, func(ctx context.Context, tg Target) error {
		cl, err := ClientFor[*ec2.Client](ctx, c, "ec2", tg.Account, tg.Region)
		if err != nil {
			return err
		}
		p := ec2.NewDescribeVolumesPaginator(cl, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(1000), Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			mu.Lock()
			for _, v := range page.Volumes {
				seen[tg.Account+"/"+tg.Region+"/"+aws.ToString(v.VolumeId)]++
			}
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

func allTargets() []Target {
	var out []Target
	for _, a := range testAccounts {
		for _, r := range testRegions {
			out = append(out, Target{Account: a, Region: r})
		}
	}
	return out
}

// TestScanUnderThrottling: the sim throttles 30% of calls (and fails 5%
// with a 500); a scan of 5 accounts x 4 regions x 1,000 volumes sees every
// volume exactly once.
func TestScanUnderThrottling(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "fault injection")
	c := e.cloud(t, nil)
	const perRegion = 1000
	for _, tg := range allTargets() {
		e.seedVolumes(t, c, tg.Account, tg.Region, perRegion, nil)
	}
	e.sim.SetFaults(awssim.Faults{ThrottleRate: 0.3, ErrorRate: 0.05, Seed: 7})
	defer e.sim.SetFaults(awssim.Faults{})
	start := time.Now()
	seen := scanVolumes(t, c, allTargets(), nil)
	want := len(allTargets()) * perRegion
	if len(seen) != want {
		t.Fatalf("saw %d distinct volumes, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("volume %s seen %d times", id, n)
		}
	}
	tot := c.TotalStats()
	if tot.Throttles == 0 {
		t.Fatal("no throttles counted")
	}
	var perKey int64
	for _, tg := range allTargets() {
		perKey += c.Throttles(tg.Account, tg.Region, "ec2")
	}
	t.Logf("scan took %v", time.Since(start))
	t.Logf("%d volumes each seen once; %d calls, %d attempts, %d throttles (%d on ec2 keys)", len(seen), tot.Calls, tot.Attempts, tot.Throttles, perKey)
}

// TestRetriesUntilDeadline: when every call is throttled, a call keeps
// retrying until its context ends, and no sooner; the throttles are
// counted for its (account, region, service).
func TestRetriesUntilDeadline(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "fault injection")
	c := e.cloud(t, func(cfg *Config) { cfg.BaseDelay, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond })
	ctx := context.Background()
	if _, err := c.Credentials(ctx, testAccounts[0]); err != nil { // assume the role before the faults
		t.Fatal(err)
	}
	e.sim.SetFaults(awssim.Faults{ThrottleRate: 1, Seed: 1})
	defer e.sim.SetFaults(awssim.Faults{})
	cl, err := ClientFor[*ec2.Client](ctx, c, "ec2", testAccounts[0], testRegions[0])
	if err != nil {
		t.Fatal(err)
	}
	const deadline = 300 * time.Millisecond
	dctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start := time.Now()
	_, err = cl.DescribeVolumes(dctx, &ec2.DescribeVolumesInput{})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("a call throttled every time succeeded")
	}
	if elapsed < deadline-20*time.Millisecond {
		t.Fatalf("gave up after %v, before the %v deadline: %v", elapsed, deadline, err)
	}
	n := c.Throttles(testAccounts[0], testRegions[0], "ec2")
	if n < 10 {
		t.Fatalf("%d throttles counted, want many retries", n)
	}
	t.Logf("retried %d times in %v, then stopped at the deadline", n, elapsed)
}

// TestSDKTaskUnderThrottling: aws-sdk tasks succeed while the sim
// throttles 30% of calls and fails 10% with a 500.
func TestSDKTaskUnderThrottling(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "fault injection")
	c := e.cloud(t, nil)
	e.seedVolumes(t, c, testAccounts[0], testRegions[0], 10, nil)
	e.sim.SetFaults(awssim.Faults{ThrottleRate: 0.3, ErrorRate: 0.1, Seed: 3})
	defer e.sim.SetFaults(awssim.Faults{})
	ctx := WithTarget(context.Background(), Target{Account: testAccounts[0], Region: testRegions[0]})
	for i := range 50 {
		out := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{}`)
		if vs, _ := out["Volumes"].([]any); len(vs) != 10 {
			t.Fatalf("call %d: %d volumes", i, len(vs))
		}
	}
	if c.Throttles(testAccounts[0], testRegions[0], "ec2") == 0 {
		t.Fatal("no throttles counted")
	}
}

// TestGivesUpOnUnreachableEndpoint: an endpoint that refuses connections
// fails the call after MaxUnreachableAttempts instead of retrying for as
// long as throttling would be retried.
func TestGivesUpOnUnreachableEndpoint(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, Config{
		Endpoint:               "http://127.0.0.1:1", // nothing listens on port 1
		BaseDelay:              time.Millisecond,
		MaxBackoff:             2 * time.Millisecond,
		MaxUnreachableAttempts: 3,
		Credentials:            credentials.NewStaticCredentialsProvider("AKIATESTNOTREAL00000", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ClientFor[*ec2.Client](ctx, c, "ec2", "111111111111", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = cl.DescribeVolumes(dctx, &ec2.DescribeVolumesInput{})
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("call to a closed port: %v, want it to give up after 3 attempts", err)
	}
	if dctx.Err() != nil {
		t.Fatal("the call ran until its deadline")
	}
}

// TestDefaultRates: CloudTrail is paced at AWS's LookupEvents quota unless
// the configuration sets rates itself.
func TestDefaultRates(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, Config{Credentials: credentials.NewStaticCredentialsProvider("AKIATESTNOTREAL00000", "secret", ""), Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.cfg.Rates["cloudtrail"]; got != (Rate{Limit: 2, Burst: 2}) {
		t.Errorf("cloudtrail rate %+v, want AWS's 2 per second", got)
	}
	c, err = New(ctx, Config{Credentials: credentials.NewStaticCredentialsProvider("AKIATESTNOTREAL00000", "secret", ""), Endpoint: "http://127.0.0.1:1",
		Rate: Rate{Limit: 100, Burst: 100}, Rates: map[string]Rate{"ec2": {Limit: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.cfg.Rates["cloudtrail"]; ok {
		t.Error("an explicit Rate still got the default cloudtrail rate")
	}
	if c.cfg.Rates["ec2"].Limit != 5 {
		t.Errorf("rates %+v", c.cfg.Rates)
	}
}
