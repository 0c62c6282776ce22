package cloud

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/clock"
)

// The tests talk to AWS only through SDK clients over HTTP: to an
// internal/awssim started here, or, when STEWARD_TEST_AWS_ENDPOINT is set,
// to that endpoint (LocalStack, moto, ...) with fake credentials. The sim
// is touched only to seed it and to turn on fault injection; tests that
// need faults skip on other endpoints.

const (
	homeAccount = "999999999999"
	homeKey     = "AKIDSTEWARDHOME"
	homeSecret  = "steward-secret"
	roleName    = "steward-remediator"
	roleTmpl    = "arn:aws:iam::{account}:role/" + roleName
)

var (
	testAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	testRegions  = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
)

// env is one AWS to test against.
type env struct {
	endpoint string
	sim      *awssim.Sim // nil on an external endpoint
	clock    *clock.Fake
}

func external() string { return os.Getenv("STEWARD_TEST_AWS_ENDPOINT") }

// newEnv starts a sim with the test accounts (or uses the external
// endpoint). Time starts at the real now, so that temporary credentials
// from an external endpoint agree with the fake clock.
func newEnv(t testing.TB) *env {
	t.Helper()
	fc := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	if ep := external(); ep != "" {
		return &env{endpoint: ep, clock: fc}
	}
	s := awssim.New(awssim.Options{Now: fc.Now})
	// steward's home is the organisation's management account.
	if err := s.AddAccount(awssim.AccountInfo{ID: homeAccount, Name: "home", Class: "management"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range testAccounts {
		if err := s.AddAccount(awssim.AccountInfo{ID: id, Name: "acct-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCredential(awssim.Credential{AccessKeyID: homeKey, SecretAccessKey: homeSecret, Account: homeAccount}); err != nil {
		t.Fatal(err)
	}
	url, stop := s.Start()
	t.Cleanup(stop)
	return &env{endpoint: url, sim: s, clock: fc}
}

// needSim skips a test that needs the simulator's fault injection.
func (e *env) needSim(t testing.TB, why string) {
	t.Helper()
	if e.sim == nil {
		t.Skipf("needs internal/awssim (%s); STEWARD_TEST_AWS_ENDPOINT is set", why)
	}
}

// inventory lists the test accounts in the test regions.
func testInventory() *Inventory {
	var accts []Account
	for i, id := range testAccounts {
		accts = append(accts, Account{ID: id, Name: fmt.Sprintf("acct-%d", i), Class: "sandbox",
			Regions: testRegions, Role: RoleFor(roleTmpl, id)})
	}
	accts = append(accts, Account{ID: homeAccount, Name: "home", Class: "security", Regions: testRegions})
	return NewInventory(accts)
}

// cloud returns a Cloud for the env with fast retries.
func (e *env) cloud(t testing.TB, mod func(*Config)) *Cloud {
	t.Helper()
	cfg := Config{
		Inventory:      testInventory(),
		Credentials:    credentials.NewStaticCredentialsProvider(homeKey, homeSecret, ""),
		Endpoint:       e.endpoint,
		Clock:          e.clock,
		DefaultAccount: testAccounts[0],
		DefaultRegion:  testRegions[0],
		Rate:           Rate{Limit: 1000, Burst: 1000},
		BaseDelay:      50 * time.Microsecond,
		MaxBackoff:     time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seedVolumes adds n unattached volumes to an account and region, through
// the sim's seeding or, on an external endpoint, CreateVolume.
func (e *env) seedVolumes(t testing.TB, c *Cloud, account, region string, n int, tags map[string]string) {
	t.Helper()
	if e.sim != nil {
		vols := make([]awssim.Volume, n)
		for i := range vols {
			for k, v := range tags {
				vols[i].Tags = append(vols[i].Tags, awssim.Tag{Key: k, Value: v})
			}
		}
		if err := e.sim.AddResources(account, region, awssim.Resources{Volumes: vols}); err != nil {
			t.Fatal(err)
		}
		return
	}
	cl, err := ClientFor[*ec2.Client](context.Background(), c, "ec2", account, region)
	if err != nil {
		t.Fatal(err)
	}
	var ts []ec2types.Tag
	for k, v := range tags {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	for i := 0; i < n; i++ {
		in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(8)}
		if len(ts) > 0 {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: ts}}
		}
		if _, err := cl.CreateVolume(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}
