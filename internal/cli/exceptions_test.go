package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/playbooks"
)

// TestExceptionsThroughServe grants, lists and revokes exceptions with
// `steward exceptions` against a real steward serve over the simulated
// AWS: each grant and revoke mirrors the steward:exception tag on the
// volume and leaves the user's tags alone; a year is refused outside
// production and allowed in it.
func TestExceptionsThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the steward serve exceptions judge")
	}
	const dev, prod = "111122223333", "444455556666"
	sim := awssim.New(awssim.Options{})
	for _, a := range []awssim.AccountInfo{{ID: dev, Name: "dev"}, {ID: prod, Name: "prod"}} {
		if err := sim.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDSTEWARD", SecretAccessKey: "secret", Account: dev}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{dev, prod} {
		vol := awssim.Volume{ID: "vol-0" + a[:6], Size: 8, State: "available", Tags: awssim.Tags{{Key: "Name", Value: "keep-me"}}}
		if err := sim.AddResources(a, "us-east-1", awssim.Resources{Volumes: []awssim.Volume{vol}}); err != nil {
			t.Fatal(err)
		}
	}
	tags := func(account string) awssim.Tags {
		var out awssim.Tags
		sim.WithRegion(account, "us-east-1", func(rs *awssim.RegionState) error {
			out = append(out, rs.Volumes["vol-0"+account[:6]].Tags...)
			return nil
		})
		return out
	}
	url, stop := sim.Start()
	defer stop()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTEWARD")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv(api.EnvAccessKeyID, "")
	t.Setenv(api.EnvSecretAccessKey, "")
	cfgDir := t.TempDir()
	writeFile(t, cfgDir, "accounts.yaml", []byte(fmt.Sprintf("regions: [us-east-1]\naccounts:\n  - {id: \"%s\", name: dev, class: development}\n  - {id: \"%s\", name: prod, class: production, role: \"arn:aws:iam::%s:role/steward\"}\n", dev, prod, prod)))
	t.Setenv("STEWARD_CONFIG", writeFile(t, cfgDir, "steward.yaml", []byte("accounts: accounts.yaml\nawsEndpoint: "+url+"\n")))
	dir := filepath.Join(t.TempDir(), "steward-data")
	p := startServe(t, dir)
	defer p.stop(t)
	flags := []string{"--data", dir, "--endpoint", p.url}
	run := func(args ...string) (int, string, string) { return steward(t, append(args, flags...)...) }

	devVol := "arn:aws:ec2:us-east-1:" + dev + ":volume/vol-0" + dev[:6]
	prodVol := "arn:aws:ec2:us-east-1:" + prod + ":volume/vol-0" + prod[:6]
	until := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	code, out, errOut := run("exceptions", "grant", devVol, "--until", until, "--by", "alice@example.com", "--reason", "kept for the audit", "--playbook", "ebs-unused", "--json")
	if code != 0 {
		t.Fatalf("grant: exit %d: %s %s\nserve: %s", code, out, errOut, p.stdout)
	}
	var g store.Exception
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.ID == "" || g.Channel != "cli" || g.Playbook != "ebs-unused" || g.Account != dev {
		t.Fatalf("grant: %v %s", err, out)
	}
	if v, _ := tags(dev).Get("steward:exception"); v != until+";kept for the audit" {
		t.Errorf("tag = %q, want %q", v, until+";kept for the audit")
	}
	if v, _ := tags(dev).Get("Name"); v != "keep-me" {
		t.Errorf("the user's Name tag is %q", v)
	}

	year := time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)
	code, _, errOut = run("exceptions", "grant", devVol, "--until", year, "--by", "alice@example.com")
	if code == 0 || !strings.Contains(errOut, "at most 31 days") || !strings.Contains(errOut, "hint:") {
		t.Errorf("a year in development: exit %d: %s", code, errOut)
	}
	code, out, errOut = run("exceptions", "grant", prodVol, "--until", year, "--by", "bob@example.com")
	if code != 0 || !strings.Contains(out, "granted exc-") {
		t.Errorf("a year in production: exit %d: %s %s", code, out, errOut)
	}
	code, _, errOut = run("exceptions", "grant", prodVol, "--until", "next week", "--by", "bob@example.com")
	if code == 0 || !strings.Contains(errOut, "YYYY-MM-DD") {
		t.Errorf("bad date: exit %d: %s", code, errOut)
	}

	code, out, _ = run("exceptions", "ls")
	if code != 0 || !strings.Contains(out, g.ID) || !strings.Contains(out, "in force") || !strings.Contains(out, "kept for the audit") || !strings.Contains(out, "(all)") {
		t.Errorf("ls: %d %s", code, out)
	}
	code, out, errOut = run("exceptions", "revoke", g.ID, "--by", "carol@example.com")
	if code != 0 || !strings.Contains(out, "revoked "+g.ID) {
		t.Fatalf("revoke: %d %s %s", code, out, errOut)
	}
	if _, ok := tags(dev).Get("steward:exception"); ok {
		t.Errorf("tag left after revoke: %v", tags(dev))
	}
	code, _, errOut = run("exceptions", "revoke", g.ID, "--by", "carol@example.com")
	if code == 0 || !strings.Contains(errOut, "409") {
		t.Errorf("revoke again: %d %s", code, errOut)
	}
	code, out, _ = run("exceptions", "ls", "--all", "--resource", devVol)
	if code != 0 || !strings.Contains(out, "revoked by carol@example.com") {
		t.Errorf("ls --all: %d %s", code, out)
	}
}

// TestRecheckFindsTheScanItem: when an exception ends, the loop finds the
// resource as the playbook's scan lists it (so the playbook gets the
// input a scheduled scan gives it), and nothing for a resource the scan
// no longer lists.
func TestRecheckFindsTheScanItem(t *testing.T) {
	const account = "111122223333"
	sim := awssim.New(awssim.Options{})
	if err := sim.AddAccount(awssim.AccountInfo{ID: account, Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDSTEWARD", SecretAccessKey: "secret", Account: account}); err != nil {
		t.Fatal(err)
	}
	vols := []awssim.Volume{{ID: "vol-in-use", Size: 8, State: "in-use",
		Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0", Device: "/dev/sdf", State: "attached"}}}}
	for i := 0; i < 30; i++ {
		vols = append(vols, awssim.Volume{ID: fmt.Sprintf("vol-%03d", i), Size: 8, State: "available"})
	}
	if err := sim.AddResources(account, "us-east-1", awssim.Resources{Volumes: vols}); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	defer stop()
	c, err := cloud.New(context.Background(), cloud.Config{Endpoint: url, Credentials: credentials.NewStaticCredentialsProvider("AKIDSTEWARD", "secret", ""),
		Inventory: cloud.NewInventory([]cloud.Account{{ID: account, Class: "development", Regions: []string{"us-east-1"}}})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := playbooks.Get("ebs-unused")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := specOfPlaybook(p)
	if err != nil {
		t.Fatal(err)
	}
	spec.Parameters = maps.Clone(spec.Parameters) // the playbook's own map is shared
	spec.Parameters["MaxResults"] = 5             // several pages
	ctx := cloud.WithTarget(context.Background(), cloud.Target{Account: account, Region: "us-east-1"})
	for _, c2 := range []struct {
		id    string
		found bool
	}{{"vol-027", true}, {"vol-in-use", false}, {"vol-gone", false}} {
		w, err := builtin.Locate("arn:aws:ec2:us-east-1:"+account+":volume/"+c2.id, nil)
		if err != nil {
			t.Fatal(err)
		}
		item, err := findScanItem(ctx, c, spec, w)
		if err != nil {
			t.Fatalf("%s: %v", c2.id, err)
		}
		m, _ := item.(map[string]any)
		if c2.found != (m != nil) || (m != nil && m["VolumeId"] != c2.id) {
			t.Errorf("%s: %v, want found=%v", c2.id, item, c2.found)
		}
	}
}
