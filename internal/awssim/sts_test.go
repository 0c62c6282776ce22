package awssim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSTSTemporaryCredentialsExpire(t *testing.T) {
	clk := newFakeClock()
	s, u := newTestSim(t, Options{Now: clk.Now})
	if err := s.AddIAM(testAccount2, Resources{Roles: []Role{{Name: "Steward"}}}); err != nil {
		t.Fatal(err)
	}
	stc := sts.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	if _, err := stc.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + testAccount2 + ":role/Other"), RoleSessionName: aws.String("s1")}); errorCode(err) != "AccessDenied" {
		t.Fatalf("role not in the account's role list: %v", err)
	}
	out, err := stc.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + testAccount2 + ":role/Steward"),
		RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Credentials.Expiration.Equal(clk.Now().Add(15 * time.Minute)) {
		t.Fatalf("expiration = %v", out.Credentials.Expiration)
	}
	c := out.Credentials
	tmp := sts.NewFromConfig(sdkConfig(u, testRegion, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	if _, err := tmp.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	noToken := sts.NewFromConfig(sdkConfig(u, testRegion, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), ""))
	if _, err := noToken.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Fatalf("temporary key without its session token: %v", err)
	}
	clk.Advance(16 * time.Minute)
	if _, err := tmp.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); errorCode(err) != "ExpiredToken" {
		t.Fatalf("expired credentials: %v", err)
	}
}
