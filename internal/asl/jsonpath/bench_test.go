package jsonpath

import (
	"testing"
)

// cloudTrailEvent is an EventBridge "AWS API Call via CloudTrail" event for
// s3:PutBucketPolicy, shaped like the real thing.
const cloudTrailEvent = `{
  "version": "0", "id": "6f0a0e4e-1b5c-4c5f-9d47-3c1f7f9f8a21", "detail-type": "AWS API Call via CloudTrail",
  "source": "aws.s3", "account": "111111111111", "time": "2024-05-01T12:00:00Z", "region": "us-east-1",
  "resources": [],
  "detail": {
    "eventVersion": "1.09",
    "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice", "arn": "arn:aws:sts::111111111111:assumed-role/Admin/alice",
      "accountId": "111111111111", "accessKeyId": "ASIAEXAMPLE",
      "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::111111111111:role/Admin", "accountId": "111111111111", "userName": "Admin"},
        "attributes": {"creationDate": "2024-05-01T11:00:00Z", "mfaAuthenticated": "false"}}},
    "eventTime": "2024-05-01T12:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy",
    "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
    "requestParameters": {"bucketName": "example-bucket", "Host": "example-bucket.s3.amazonaws.com", "policy": ""},
    "responseElements": null,
    "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader"},
    "requestID": "EXAMPLE123", "eventID": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "readOnly": false,
    "resources": [{"accountId": "111111111111", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::example-bucket"}],
    "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111111111111", "eventCategory": "Management"
  }
}`

func BenchmarkGetReference(b *testing.B) {
	doc := decode(b, cloudTrailEvent)
	p, err := Compile("$.detail.requestParameters.bucketName")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := p.Get(doc)
		if err != nil || v != "example-bucket" {
			b.Fatal(v, err)
		}
	}
}

func BenchmarkGetFilter(b *testing.B) {
	doc := decode(b, cloudTrailEvent)
	p, err := Compile("$.detail.resources[?(@.type == 'AWS::S3::Bucket')].ARN")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	doc := decode(b, cloudTrailEvent)
	p, err := Compile("$.detail.result")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Set(doc, "ok"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("$.detail.requestParameters.bucketName"); err != nil {
			b.Fatal(err)
		}
	}
}
