package intrinsic

import "testing"

func BenchmarkFormat(b *testing.B) {
	env := &testEnv{input: decodeJSON(b, []byte(`{"detail":{"eventName":"PutBucketPolicy","awsRegion":"us-east-1",
		"requestParameters":{"bucketName":"example-bucket"},"userIdentity":{"accountId":"111111111111"}}}`))}
	c, err := Parse(`States.Format('Bucket {} in account {} changed by {} in {}', $.detail.requestParameters.bucketName, $.detail.userIdentity.accountId, $.detail.eventName, $.detail.awsRegion)`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNestedSplit(b *testing.B) {
	env := &testEnv{input: decodeJSON(b, []byte(`{"arn":"arn:aws:imagebuilder:us-east-1:111111111111:image/recipe-name/1.2.3"}`))}
	c, err := Parse(`States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 2), '.'), 0)`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`States.Format('Bucket {} in {}', $.detail.requestParameters.bucketName, $.detail.awsRegion)`); err != nil {
			b.Fatal(err)
		}
	}
}
