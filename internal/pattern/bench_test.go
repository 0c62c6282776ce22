package pattern

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchEvent is a real "AWS API Call via CloudTrail" event when the
// shared test data is present, else a built one of the same shape.
func benchEvent(b *testing.B, file string) []byte {
	b.Helper()
	dir, err := os.Getwd()
	if err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
		if raw, err := os.ReadFile(filepath.Join(dir, "..", "shared", "testdata", "cloudtrail", "eventbridge", file)); err == nil {
			return raw
		}
	}
	return []byte(`{"account":"619193117841","region":"us-west-2","detail":{"eventVersion":"1.03",
"eventID":"c4fa3db1-2303-40e4-bde0-3b7246bdbf0b","eventTime":"2016-06-04T12:19:03Z","requestParameters":
{"CreateBucketConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","LocationConstraint":"us-west-2"},
"bucketName":"custodian-create-bucket-v4"},"eventType":"AwsApiCall","responseElements":null,"awsRegion":"us-west-2",
"eventName":"CreateBucket","userIdentity":{"sessionContext":{"attributes":{"creationDate":"2016-06-04T11:18:26Z",
"mfaAuthenticated":"false"}},"type":"Root","arn":"arn:aws:iam::619193117841:root","principalId":"619193117841",
"accountId":"619193117841"},"eventSource":"s3.amazonaws.com","requestID":"A279EE6B879FE5ED","userAgent":"[S3Console/0.4]",
"sourceIPAddress":"204.63.44.148"},"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","version":"0",
"time":"2016-06-04T12:19:03Z","id":"075efcc5-cc27-4041-accc-5fe2f65ef80d","resources":[]}`)
}

var benchServices = []string{"ec2", "s3", "iam", "rds", "lambda", "kms", "sts", "cloudtrail", "config", "guardduty",
	"securityhub", "elasticloadbalancing", "cloudfront", "sns", "sqs", "dynamodb", "ecr", "ecs", "eks", "organizations"}

var benchVerbs = []string{"Create", "Delete", "Put", "Update", "Modify", "Attach", "Detach", "Authorize", "Revoke", "Run",
	"Start", "Stop", "Tag", "Untag", "Enable", "Disable", "Set", "Add", "Remove", "Associate"}

var benchNouns = []string{"Bucket", "BucketPolicy", "Instances", "SecurityGroupIngress", "User", "Role", "RolePolicy",
	"AccessKey", "LoginProfile", "Trail", "FlowLogs", "DBInstance", "Function", "Key", "Distribution", "Topic", "Queue",
	"Table", "Repository", "Cluster", "Snapshot", "Volume", "Image", "LoadBalancer", "Listener"}

// benchRules generates n varied rules of the kinds steward users write.
// The first ten rules are built to be able to match the bench event
// (source aws.s3, eventName CreateBucket) and no later rule is, so the
// number of matches is the same at every size and the figures show the
// cost of the index alone.
func benchRules(n int) []string {
	rules := make([]string, 0, n)
	for i := 0; i < n; i++ {
		svc := benchServices[(i*7)%len(benchServices)]
		name := benchVerbs[(i*3)%len(benchVerbs)] + benchNouns[(i*11)%len(benchNouns)]
		if i/len(benchNouns)%4 == 1 {
			name = fmt.Sprintf("%s%d", name, i) // a long tail of distinct names
		}
		if i < 10 {
			svc, name = "s3", "CreateBucket"
		} else if name == "CreateBucket" {
			name = "CreateBucketReplication"
		}
		src := "aws." + svc
		var r string
		switch i % 10 {
		case 0:
			r = fmt.Sprintf(`{"source":[%q],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":[%q]}}`, src, name)
		case 1:
			r = fmt.Sprintf(`{"source":[%q],"detail":{"eventName":[%q],"userIdentity":{"type":["AssumedRole","IAMUser","Root"]}}}`, src, name)
		case 2:
			r = fmt.Sprintf(`{"detail":{"eventSource":[{"prefix":%q}],"eventName":[{"prefix":%q}]},"region":[{"anything-but":["us-gov-west-1","cn-north-1"]}]}`,
				svc+".", name[:len(name)/2+1])
		case 3:
			r = fmt.Sprintf(`{"source":[%q],"detail":{"eventName":[%q],"requestParameters":{"bucketName":[{"wildcard":"*-%d-logs"}]}}}`, src, name, i)
		case 4:
			r = fmt.Sprintf(`{"source":[%q],"detail":{"eventName":[%q],"sourceIPAddress":[{"cidr":"%d.%d.0.0/16"}]}}`, src, name, 10+i%200, i%256)
		case 5:
			r = fmt.Sprintf(`{"account":["%012d"],"detail":{"eventName":[%q],"requestParameters":{"maxCount":[{"numeric":[">",%d,"<=",%d]}]}}}`,
				619193117841+i%3, name, i%50, i%50+10)
		case 6:
			r = fmt.Sprintf(`{"source":[%q],"detail":{"eventName":[%q],"errorCode":[{"exists":false}]}}`, src, name)
		case 7:
			r = fmt.Sprintf(`{"source":[%q],"$or":[{"detail":{"eventName":[%q]}},{"detail":{"eventName":[%q]}}]}`, src, name, name+"V2")
		case 8:
			r = fmt.Sprintf(`{"detail-type":[{"equals-ignore-case":"aws api call via cloudtrail"}],"detail":{"eventName":[%q],"userIdentity":{"arn":[{"suffix":":root"}]}}}`, name)
		case 9:
			r = fmt.Sprintf(`{"source":[%q],"detail":{"eventName":[%q],"awsRegion":[{"anything-but":{"prefix":"us-gov-"}}]}}`, src, name)
		}
		rules = append(rules, r)
	}
	return rules
}

func benchMatcher(b *testing.B, n int, event string) {
	ev := benchEvent(b, event)
	m := NewMatcher()
	for i, r := range benchRules(n) {
		p, err := Compile([]byte(r))
		if err != nil {
			b.Fatalf("rule %d %s: %v", i, r, err)
		}
		m.Add(fmt.Sprintf("rule-%05d", i), p)
	}
	ids, err := m.Match(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := m.Match(ev); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		// CPU time per event, and events per CPU-second: the figures
		// to read when the machine is shared and wall time is inflated
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/(float64(cpu)/1e9), "events/cpu-s")
	}
	b.ReportMetric(float64(len(ids)), "matches")
}

const (
	benchSmallEvent = "CreateBucket__custodian__event-cloud-trail-create-bucket.json"
	benchLargeEvent = "UpdateDistribution__custodian__event-cloud-trail-update-distribution.json"
)

func BenchmarkMatcher10(b *testing.B)    { benchMatcher(b, 10, benchSmallEvent) }
func BenchmarkMatcher1000(b *testing.B)  { benchMatcher(b, 1000, benchSmallEvent) }
func BenchmarkMatcher10000(b *testing.B) { benchMatcher(b, 10000, benchSmallEvent) }

// The 11 KB CloudFront UpdateDistribution event, to show cost by size.
func BenchmarkMatcherLargeEvent10(b *testing.B)    { benchMatcher(b, 10, benchLargeEvent) }
func BenchmarkMatcherLargeEvent10000(b *testing.B) { benchMatcher(b, 10000, benchLargeEvent) }

func BenchmarkPatternMatch(b *testing.B) {
	ev := benchEvent(b, benchSmallEvent)
	p := MustCompile(`{"source":["aws.s3"],"detail":{"eventName":["CreateBucket"],"userIdentity":{"type":["Root"]}}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Match(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	rules := benchRules(100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile([]byte(rules[i%len(rules)])); err != nil {
			b.Fatal(err)
		}
	}
}
