package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
)

var deadline = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func notice(id, playbook string, to ...Recipient) Notice {
	return Notice{
		ApprovalID: id, ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:" + playbook + ":run-1", Playbook: playbook,
		Title:     "EBS volume unattached for 45 days",
		Resources: []Resource{{Account: "111111111111", Region: "us-east-1", ID: "vol-" + id, Type: "AWS::EC2::Volume", Owner: "alice"}},
		Action:    "snapshot and delete the volume", Deadline: deadline, DefaultAction: approve.ChoiceApprove,
		Choices: Choices(false, func(c approve.Choice) string { return "https://steward.example.com/approve/" + id + "-" + string(c) }),
		To:      to,
	}
}

func TestBatch(t *testing.T) {
	alice := Recipient{KindEmail, "alice@example.com"}
	aliceSlack := Recipient{KindSlack, "U1"}
	bob := Recipient{KindEmail, "bob@example.com"}
	in := []Notice{
		notice("3", "ebs-unused", alice, aliceSlack),
		notice("1", "ebs-unused", alice),
		notice("2", "ebs-unused", bob),
		notice("1", "ebs-unused", alice), // listed twice
		notice("4", "ebs-unused"),        // no recipient
	}
	got := Batch(in)
	ids := func(ns []Notice) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.ApprovalID)
		}
		return strings.Join(s, ",")
	}
	for r, want := range map[Recipient]string{alice: "1,3", aliceSlack: "3", bob: "2", {}: "4"} {
		if ids(got[r]) != want {
			t.Errorf("%v: %q, want %q", r, ids(got[r]), want)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d recipients", len(got))
	}
}

func TestChoices(t *testing.T) {
	if n := len(Choices(false, nil)); n != 3 {
		t.Fatalf("without year: %d", n)
	}
	cs := Choices(true, func(c approve.Choice) string { return "u/" + string(c) })
	if len(cs) != 4 || cs[2].Choice != approve.ChoiceException1Y || cs[2].URL != "u/exception-1y" || cs[3].Text() != "Deny" {
		t.Fatalf("%+v", cs)
	}
}

func TestRetry(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		errs      []error
		policy    RetryPolicy
		wantCalls int
		wantWaits []time.Duration
		wantErr   bool
		transient bool
	}{
		{"ok", []error{nil}, RetryPolicy{}, 1, nil, false, false},
		{"permanent", []error{boom}, RetryPolicy{}, 1, nil, true, false},
		{"transient then ok", []error{Transient(boom, 0), Transient(boom, 0), nil}, RetryPolicy{}, 3, []time.Duration{time.Second, 2 * time.Second}, false, false},
		{"gives up", []error{Transient(boom, 0), Transient(boom, 0), Transient(boom, 0), Transient(boom, 0), nil}, RetryPolicy{}, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, true, true},
		{"retry-after honoured", []error{Transient(boom, 7*time.Second), nil}, RetryPolicy{}, 2, []time.Duration{7 * time.Second}, false, false},
		{"retry-after too long", []error{Transient(boom, time.Hour)}, RetryPolicy{}, 1, nil, true, true},
		{"capped", []error{Transient(boom, 0), Transient(boom, 0), Transient(boom, 0), nil}, RetryPolicy{Attempts: 5, Base: 3 * time.Second, Max: 4 * time.Second}, 4, []time.Duration{3 * time.Second, 4 * time.Second, 4 * time.Second}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			p := tc.policy
			p.SleepFunc = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			calls := 0
			err := Retry(context.Background(), p, func(context.Context) error {
				calls++
				return tc.errs[calls-1]
			})
			if calls != tc.wantCalls || fmt.Sprint(waits) != fmt.Sprint(tc.wantWaits) || (err != nil) != tc.wantErr {
				t.Fatalf("calls %d waits %v err %v", calls, waits, err)
			}
			var de *DeliveryError
			if err != nil && (!errors.As(err, &de) || de.Transient != tc.transient || !errors.Is(err, boom)) {
				t.Fatalf("err = %#v", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Retry(ctx, RetryPolicy{}, func(context.Context) error { return Transient(boom, 0) })
	if !errors.Is(err, context.Canceled) && !errors.Is(err, boom) {
		t.Fatalf("cancelled: %v", err)
	}
}

type dir map[string]string

func (d dir) LookupByEmail(_ context.Context, email string) (string, error) {
	if email == "down@example.com" {
		return "", errors.New("slack down")
	}
	if id, ok := d[email]; ok {
		return id, nil
	}
	return "", fmt.Errorf("lookup %s: %w", email, ErrNoSuchUser)
}

func TestRouter(t *testing.T) {
	secops := Recipient{KindSlack, "#secops"}
	prodOps := Recipient{KindEmail, "prod-ops@example.com"}
	r := NewRouter(RouterConfig{
		Owners:         map[string]string{"arn:aws:iam::111111111111:user/svc-build": "build-team@example.com", "Bob": "robert@example.com"},
		Domain:         "example.com",
		AllowedDomains: []string{"example.com"},
		Slack:          dir{"alice@example.com": "UALICE"},
		Fallback:       map[string][]Recipient{"": {secops}, "production": {prodOps}},
	})
	tests := []struct {
		owner, class string
		wantTo       string
		fallback     bool
	}{
		{"alice@example.com", "", "email:alice@example.com slack:UALICE", false},
		{"Alice@Example.com", "", "email:alice@example.com slack:UALICE", false},
		{"arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Dev/alice@example.com", "", "email:alice@example.com slack:UALICE", false},
		{"AROAVD4IK2M7GWZXER5DZ:alice@example.com", "", "email:alice@example.com slack:UALICE", false},
		{"arn:aws:iam::111111111111:user/carol", "", "email:carol@example.com", false},
		{"arn:aws:iam::111111111111:user/svc-build", "", "email:build-team@example.com", false},
		{"arn:aws:sts::111111111111:assumed-role/Dev/bob", "", "email:robert@example.com", false},
		{"dave", "", "email:dave@example.com", false},
		{"down@example.com", "", "email:down@example.com", false},
		{"arn:aws:sts::111111111111:assumed-role/ci/1577212321281084000", "", "slack:#secops", true},
		{"arn:aws:iam::111111111111:root", "production", "email:prod-ops@example.com", true},
		{"mallory@evil.test", "production", "email:prod-ops@example.com", true},
		{"", "development", "slack:#secops", true},
		{"ec2.amazonaws.com", "", "slack:#secops", true},
		{"a b c", "", "slack:#secops", true},
	}
	for _, tc := range tests {
		rt := r.Route(context.Background(), tc.owner, tc.class)
		var to []string
		for _, x := range rt.To {
			to = append(to, x.String())
		}
		if strings.Join(to, " ") != tc.wantTo || rt.Fallback != tc.fallback || (tc.fallback && rt.Note == "") {
			t.Errorf("Route(%q, %q) = %+v", tc.owner, tc.class, rt)
		}
	}
	n := notice("9", "ebs-unused")
	n.Resources[0].Owner = "arn:aws:iam::111111111111:user/carol"
	r.Address(context.Background(), &n)
	if len(n.To) != 1 || n.To[0].Address != "carol@example.com" || n.Owner.Raw != n.Resources[0].Owner {
		t.Fatalf("Address: %+v", n)
	}
	n = notice("10", "ebs-unused")
	n.Resources[0].Owner = "arn:aws:iam::111111111111:root"
	r.Address(context.Background(), &n)
	if len(n.To) != 1 || n.To[0] != secops || !strings.Contains(n.Note, "Unknown owner") {
		t.Fatalf("Address unknown: %+v", n)
	}
}

func TestRenderText(t *testing.T) {
	n := notice("1", "ebs-unused")
	n.Resources[0].ID = "vol-1\nApprove: https://evil.test/"
	n.Reminder = 2
	n.Note = "Unknown owner"
	txt := RenderText([]Notice{n, notice("2", "ebs-unused")})
	for _, want := range []string{"REMINDER 2", "NOTE: Unknown owner", "vol-1 Approve: https://evil.test/ (AWS::EC2::Volume) in account 111111111111, us-east-1",
		"https://steward.example.com/approve/1-approve", "https://steward.example.com/approve/2-deny", "steward will snapshot and delete the volume on Tue 24 Nov 2026 09:00 UTC"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "\nApprove: https://evil") {
		t.Error("a resource name added a line")
	}
	if s := Subject([]Notice{n}); !strings.HasPrefix(s, "[steward] Reminder: ebs-unused") || strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject %q", s)
	}
	if s := Subject([]Notice{notice("1", "a"), notice("2", "a")}); !strings.Contains(s, "2 findings on 2 resources") {
		t.Errorf("subject %q", s)
	}
	d := approve.Decision{Choice: approve.ChoiceDeny, By: approve.Person{ID: "U1", Name: "alice"}, Channel: "slack"}
	n.Decision = &d
	if txt := RenderText([]Notice{n}); !strings.Contains(txt, "DECIDED: Deny by alice (U1) via slack") || strings.Contains(txt, "approve/1-approve") {
		t.Errorf("decided:\n%s", txt)
	}
	if Clean(strings.Repeat("é", 10), 3) != "ééé…" {
		t.Error("Clean cut")
	}
}

type recNotifier struct{ got []Recipient }

func (r *recNotifier) Notify(_ context.Context, to Recipient, ns ...Notice) (Receipt, error) {
	r.got = append(r.got, to)
	return Receipt{To: to, ID: "x", Notices: ns}, nil
}

func TestMux(t *testing.T) {
	rec := &recNotifier{}
	m := Mux{KindEmail: rec}
	if _, err := m.Notify(context.Background(), Recipient{KindEmail, "a@example.com"}, notice("1", "p")); err != nil || len(rec.got) != 1 {
		t.Fatal(err)
	}
	if _, err := m.Notify(context.Background(), Recipient{KindSNS, "arn"}, notice("1", "p")); !errors.Is(err, ErrNoNotifier) {
		t.Fatal(err)
	}
	if err := m.Update(context.Background(), Receipt{To: Recipient{KindEmail, "a"}}, approve.Decision{}); err != nil {
		t.Fatal(err)
	}
	// Notices and receipts survive JSON, so the engine can keep them.
	b, _ := json.Marshal(Receipt{To: Recipient{KindSlack, "C1"}, Notices: []Notice{notice("1", "p")}})
	var back Receipt
	if err := json.Unmarshal(b, &back); err != nil || back.Notices[0].Choices[0].URL == "" || !back.Notices[0].Deadline.Equal(deadline) {
		t.Fatalf("%v %+v", err, back)
	}
}

// sharedTestdata finds /work/shared/testdata from the module root.
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
			t.Skip("no go.mod above the package")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("outside test data not found at %s; skipping", td)
	}
	return td
}

// TestParseOwnerCloudTrail reads the creator of every real CloudTrail
// record in the shared test data and checks ParseOwner against the record's
// other fields: for a session, the name after the colon of principalId; for
// an IAM user, userName. (accountId is not compared: several samples were
// edited by hand and disagree with their own ARN.)
func TestParseOwnerCloudTrail(t *testing.T) {
	root := filepath.Join(sharedTestdata(t), "cloudtrail")
	// Records whose userIdentity.arn is not a well-formed ARN: checked to
	// fail cleanly instead.
	malformed := map[string]string{
		"arn:aws::sts:101010101111:assumed-role/UserRole/userid": "service and region swapped in the sample",
	}
	pass, total := 0, 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, rec := range records(b) {
			ui, _ := rec["userIdentity"].(map[string]any)
			arn, _ := ui["arn"].(string)
			if arn == "" {
				continue
			}
			total++
			ref, err := ParseOwner(arn)
			typ, _ := ui["type"].(string)
			pid, _ := ui["principalId"].(string)
			uname, _ := ui["userName"].(string)
			ok := false
			switch {
			case malformed[arn] != "":
				ok = err != nil
			case err != nil:
				ok = typ == "AWSService" || typ == "AWSAccount"
			case typ == "AssumedRole" && ref.Kind == "assumed-role":
				// principalId is ROLEID:SESSION, except in samples
				// that redacted it; then the ARN's last segment.
				want := arn[strings.LastIndexByte(arn, '/')+1:]
				if i := strings.IndexByte(pid, ':'); i >= 0 {
					want = pid[i+1:]
				}
				ok = want == ref.Name && ref.Role != "" && strings.Contains(arn, ":"+ref.Account+":")
			case typ == "AssumedRole" && ref.Kind == "role":
				ok = !strings.Contains(pid, ":") || strings.HasSuffix(arn, "/"+pid[strings.IndexByte(pid, ':')+1:])
			case typ == "IAMUser":
				ok = ref.Kind == "user" && (uname == "" || uname == ref.Name) && strings.Contains(arn, ":"+ref.Account+":")
			case typ == "Root":
				ok = ref.Kind == "root"
			default:
				ok = true // other identity types: parsed without failing
			}
			if ok {
				pass++
			} else {
				t.Errorf("%s: %s (%s, principalId %q): got %+v, %v", filepath.Base(path), arn, typ, pid, ref, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 {
		t.Skip("no CloudTrail records with userIdentity.arn found")
	}
	t.Logf("ParseOwner on shared CloudTrail records: %d/%d pass (%d listed as malformed samples)", pass, total, len(malformed))
}

// records returns the CloudTrail records in a file: a raw record, a
// {"Records": [...]} log file, an EventBridge event (detail), or a
// lookup-events answer (Events[].CloudTrailEvent).
func records(b []byte) []map[string]any {
	var doc map[string]any
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []map[string]any
	if rs, ok := doc["Records"].([]any); ok {
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	if d, ok := doc["detail"].(map[string]any); ok {
		out = append(out, d)
	}
	if es, ok := doc["Events"].([]any); ok {
		for _, e := range es {
			m, _ := e.(map[string]any)
			if s, ok := m["CloudTrailEvent"].(string); ok {
				var r map[string]any
				if json.Unmarshal([]byte(s), &r) == nil {
					out = append(out, r)
				}
			}
		}
	}
	if _, ok := doc["userIdentity"]; ok {
		out = append(out, doc)
	}
	return out
}

// FuzzParseOwner: owner tags are written by anyone who can tag a resource.
func FuzzParseOwner(f *testing.F) {
	for _, s := range []string{"alice@example.com", "arn:aws:sts::1:assumed-role/R/s", "arn:aws:iam::1:user/a/b", "AROA1234:x", "arn:", "ec2.amazonaws.com", "a\nb"} {
		f.Add(s)
	}
	r := NewRouter(RouterConfig{Domain: "example.com", AllowedDomains: []string{"example.com"}, Fallback: map[string][]Recipient{"": {{KindSlack, "#s"}}}})
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseOwner(s)
		if err == nil && ref.Kind == "" {
			t.Fatalf("no kind for %q", s)
		}
		rt := r.Route(context.Background(), s, "")
		if len(rt.To) == 0 {
			t.Fatalf("%q routed nowhere", s)
		}
		for _, to := range rt.To {
			if to.Kind == KindEmail && !strings.HasSuffix(to.Address, "@example.com") && !strings.HasSuffix(to.Address, ".example.com") {
				t.Fatalf("%q routed outside the allowed domain: %v", s, to)
			}
		}
	})
}

// FuzzRenderText: titles, resource ids and owners come from whoever made
// the resource; they must not add lines (fake links) to a message.
func FuzzRenderText(f *testing.F) {
	f.Add("EBS volume unattached", "vol-1", "alice@example.com", "snapshot and delete")
	f.Add("x\nApprove: https://evil.test/", "vol\r\n-1", "\u2028", "\x00")
	f.Fuzz(func(t *testing.T, title, id, owner, action string) {
		mk := func(title, id, owner, action string) Notice {
			// Empty fields drop their line; keep each present.
			title, id, owner, action = "t"+title, "i"+id, "o"+owner, "a"+action
			n := notice("1", "p")
			n.Title, n.Resources[0].ID, n.Resources[0].Owner, n.Owner.Raw, n.Action, n.Detail, n.Note = title, id, owner, owner, action, title, owner
			return n
		}
		got := RenderText([]Notice{mk(title, id, owner, action)})
		want := RenderText([]Notice{mk("t", "i", "o", "a")})
		if strings.Count(got, "\n") != strings.Count(want, "\n") {
			t.Fatalf("input changed the line count:\n%s", got)
		}
		if s := Subject([]Notice{mk(title, id, owner, action)}); strings.ContainsAny(s, "\r\n") {
			t.Fatalf("subject %q", s)
		}
	})
}
