package api

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// DefaultEndpoint is where steward serve listens by default.
const DefaultEndpoint = "http://127.0.0.1:8600"

// NewClient returns aws-sdk-go-v2's Step Functions client for a steward
// endpoint, signing with key. It is configured directly, not through the
// shared AWS config files and environment, so AWS_CA_BUNDLE, profiles and
// AWS_* keys meant for real AWS do not apply to it.
func NewClient(endpoint string, key AccessKey, optFns ...func(*sfn.Options)) *sfn.Client {
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey, Source: "steward"}
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}},
	}, optFns...)
}
