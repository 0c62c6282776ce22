package awssim

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

const (
	testAccount  = "111111111111"
	testAccount2 = "222222222222"
	testKey      = "AKIDTESTHOME"
	testRegion   = "us-east-1"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestSim starts a sim with two accounts and a base key in the first.
func newTestSim(t testing.TB, opts Options) (*Sim, string) {
	t.Helper()
	s := New(opts)
	for _, id := range []string{testAccount, testAccount2} {
		if err := s.AddAccount(AccountInfo{ID: id, Name: "acct-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCredential(Credential{AccessKeyID: testKey, SecretAccessKey: "secret", Account: testAccount}); err != nil {
		t.Fatal(err)
	}
	url, stop := s.Start()
	t.Cleanup(stop)
	return s, url
}

// sdkConfig builds an aws.Config for the sim by hand, so AWS_CA_BUNDLE and
// other environment settings play no part.
func sdkConfig(url, region, akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		HTTPClient:   awshttp.NewBuildableClient(),
		// Standard retries, without real sleeping. Retries matter even
		// without injected faults: the SDK can lose a keep-alive connection
		// to a fast local server (aws-sdk-go-v2#2737) and retries that error.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

// ctx is the context for SDK calls in tests; go test's -timeout bounds them.
func ctx(testing.TB) context.Context { return context.Background() }
