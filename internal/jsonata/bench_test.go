package jsonata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// cloudTrailEvent loads a real EventBridge "AWS API Call via CloudTrail"
// event. None of the recorded events carries detail.resources, so a
// CloudTrail-shaped resources array of three entries is added for the
// filter benchmark.
func cloudTrailEvent(b *testing.B) any {
	b.Helper()
	dir := filepath.Join(filepath.Dir(suiteDir(b)), "cloudtrail", "eventbridge")
	data, err := os.ReadFile(filepath.Join(dir, "CreateBucket__custodian__event-cloud-trail-create-bucket.json"))
	if err != nil {
		b.Skipf("CloudTrail sample not available: %v", err)
	}
	v, err := ParseJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	detail, _ := v.(*Object).Get("detail")
	res := []any{}
	for i, typ := range []string{"AWS::S3::Object", "AWS::S3::Bucket", "AWS::IAM::Role"} {
		o := newObject(3)
		o.Set("type", typ)
		o.Set("ARN", fmt.Sprintf("arn:aws:s3:::custodian-create-bucket-v4/%d", i))
		o.Set("accountId", "619193117841")
		res = append(res, o)
	}
	detail.(*Object).Set("resources", res)
	items := make([]any, 100)
	for i := range items {
		o := newObject(2)
		o.Set("name", fmt.Sprintf("item-%d", i))
		o.Set("size", float64(i))
		items[i] = o
	}
	v.(*Object).Set("items", items)
	return v
}

func benchExpr(b *testing.B, expr string) {
	in := cloudTrailEvent(b)
	e, err := Compile(expr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Eval(in, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSimplePath(b *testing.B) {
	benchExpr(b, "detail.requestParameters.bucketName")
}

func BenchmarkFilter(b *testing.B) {
	benchExpr(b, "detail.resources[type='AWS::S3::Bucket'].ARN")
}

func BenchmarkMap100(b *testing.B) {
	benchExpr(b, "$map(items, function($i){ $i.name })")
}

func BenchmarkStringFunctions(b *testing.B) {
	benchExpr(b, "$uppercase($substringBefore(detail.eventSource, '.'))")
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile("detail.resources[type='AWS::S3::Bucket'].ARN"); err != nil {
			b.Fatal(err)
		}
	}
}
