package awssim

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzSim is a small seeded sim shared by the fuzzers.
func fuzzSim(t testing.TB) *Sim {
	s := New(Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err := s.AddAccount(AccountInfo{ID: testAccount, Name: "fuzz"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCredential(Credential{AccessKeyID: testKey, Account: testAccount}); err != nil {
		t.Fatal(err)
	}
	err := s.AddResources(testAccount, testRegion, Resources{
		Volumes:        []Volume{{ID: "vol-1"}, {ID: "vol-2", Attachments: []VolumeAttachment{{InstanceID: "i-1"}}}},
		Instances:      []Instance{{ID: "i-1"}},
		SecurityGroups: []SecurityGroup{{ID: "sg-1", Name: "web", Ingress: []SecurityGroupRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "0.0.0.0/0"}}}},
		Addresses:      []Address{{AllocationID: "eipalloc-1"}},
		LoadBalancers:  []LoadBalancer{{Name: "lb"}},
		TargetGroups:   []TargetGroup{{Name: "tg", Targets: []Target{{ID: "i-1"}}}},
		DBInstances:    []DBInstance{{ID: "db"}},
		Topics:         []Topic{{Name: "t"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddIAM(testAccount, Resources{Policies: []Policy{{Name: "p"}}, Roles: []Role{{Name: "r"}}, Users: []User{{Name: "u"}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

var fuzzServices = []string{"ec2", "iam", "sts", "elasticloadbalancing", "rds", "sns", "monitoring"}

// FuzzQueryDecode feeds arbitrary query-protocol bodies to the decoder, its
// list/struct helpers, and every query service through the HTTP handler.
func FuzzQueryDecode(f *testing.F) {
	seeds := []string{
		"Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=status&Filter.1.Value.1=available&MaxResults=5",
		"Action=DescribeVolumes&NextToken=YWZ0ZXI6dm9sLTE&MaxResults=1000",
		"Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
		"Action=RevokeSecurityGroupIngress&GroupId=sg-1&SecurityGroupRuleId.1=sgr-x",
		"Action=CreateTags&ResourceId.1=vol-1&Tag.1.Key=k&Tag.1.Value=v",
		"Action=CreatePolicy&PolicyName=x&PolicyDocument=%7B%22Statement%22%3A%5B%5D%7D&Tags.member.1.Key=a",
		"Action=ListRoles&MaxItems=1&Marker=bTpy",
		"Action=AssumeRole&RoleArn=arn:aws:iam::111111111111:role/x&RoleSessionName=s",
		"Action=DescribeDBInstances&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql",
		"Action=Publish&TopicArn=arn:aws:sns:us-east-1:111111111111:t&Message=hi&MessageAttributes.entry.1.Name=a",
		"Action=DescribeVolumes&Filter.99999999999999999999.Name=x",
		"Filter.1.Value.1=%zz",
		"Action=RunInstances&ImageId=ami-1&MinCount=1&MaxCount=3",
	}
	for i, s := range seeds {
		f.Add(byte(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, svc byte, body []byte) {
		// A fresh sim per input: a shared one grows without bound (every
		// RunInstances adds instances) and slows the fuzzer to a crawl.
		h := fuzzSim(t).Handler()
		p, err := decodeQuery(body)
		if err == nil {
			_ = p.indexed("Filter")
			_ = p.list("VolumeId")
			_ = p.sub("Tags").indexed("member")
			_, _, _ = p.int("MaxResults")
			_, _ = parseFilters(p)
			_, _ = parsePage(p, 5, 1000, false, "x")
			_, _ = permissionsToRules(p)
			_ = readTags(p, "Tag")
			_, _, _, _ = iamPage(p, []string{"a", "b"})
		}
		name := fuzzServices[int(svc)%len(fuzzServices)]
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20260101/"+testRegion+"/"+name+"/aws4_request, SignedHeaders=host, Signature=0")
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s request did not finish within 5s: %q", name, body)
		}
		if rec.Code == 0 {
			t.Fatal("no status written")
		}
	})
}

// FuzzParseAuthorization checks the SigV4 scope parser never panics and
// that a scope it accepts has all parts.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=abc")
	f.Add("Credential=")
	f.Add("Credential=a/b/c/d/e/f")
	f.Fuzz(func(t *testing.T, h string) {
		sc, err := parseAuthorization(h)
		if err == nil && (sc.AccessKeyID == "" || strings.Contains(sc.Service, "/")) {
			t.Fatalf("accepted bad scope %+v from %q", sc, h)
		}
	})
}

// FuzzLoadScenario checks that scenario YAML never panics the loader or Apply.
func FuzzLoadScenario(f *testing.F) {
	f.Add([]byte("accounts:\n  - id: \"111111111111\"\n    regions:\n      us-east-1:\n        volumes: [{id: vol-1}]\n"))
	f.Add([]byte("credentials: [{access_key_id: A, account: \"111111111111\"}]\naccounts: [{id: \"111111111111\"}]"))
	f.Add([]byte("accounts: [{id: \"111111111111\", regions: {r: {security_groups: [{ingress: [{protocol: bogus}]}]}}}]"))
	f.Add([]byte("accounts: [{id: \"111111111111\", iam: {policies: [{name: p, versions: [{id: v1}]}], users: [{name: u, access_keys: [{}]}]}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := LoadScenario(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = New(Options{}).Apply(sc)
	})
}
