package awssim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/aws/smithy-go"
)

// loopbackClient dials the sim whatever host name a request carries, so
// virtual-host-style S3 and S3 Control (ACCOUNT.host) reach it.
func loopbackClient(simURL string) *awshttp.BuildableClient {
	addr := strings.TrimPrefix(simURL, "http://")
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	})
}

func s3Client(url, region string, pathStyle bool) *s3.Client {
	cfg := sdkConfig(url, region, testKey, "secret", "")
	if !pathStyle {
		// bucket.localhost:PORT, dialled to the sim.
		cfg.BaseEndpoint = aws.String(strings.Replace(url, "127.0.0.1", "localhost", 1))
		cfg.HTTPClient = loopbackClient(url)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// wantAPIError checks an SDK error's code and HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s (%v)", code, ae.ErrorCode(), err)
	}
	var re *awshttp.ResponseError
	if status != 0 && errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want status %d, got %d", code, status, re.HTTPStatusCode())
	}
}

func TestS3Buckets(t *testing.T) {
	for _, pathStyle := range []bool{true, false} {
		name := "virtual-host"
		if pathStyle {
			name = "path"
		}
		t.Run(name, func(t *testing.T) {
			sim, url := newTestSim(t, Options{})
			c := s3Client(url, "eu-west-1", pathStyle)
			c1 := s3Client(url, testRegion, pathStyle)
			_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("logs-eu"),
				CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c1.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("site")}); err != nil {
				t.Fatal(err)
			}
			_, err = c1.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "BucketAlreadyOwnedByYou", 409)
			_, err = c1.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
			wantAPIError(t, err, "InvalidBucketName", 400)

			lb, err := c1.ListBuckets(ctx(t), &s3.ListBucketsInput{})
			if err != nil || len(lb.Buckets) != 2 || *lb.Buckets[0].Name != "logs-eu" || *lb.Buckets[0].BucketRegion != "eu-west-1" {
				t.Fatalf("ListBuckets = %+v, %v", lb, err)
			}
			// Paging.
			p := s3.NewListBucketsPaginator(c1, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
			n := 0
			for p.HasMorePages() {
				pg, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				n += len(pg.Buckets)
			}
			if n != 2 {
				t.Fatalf("paged ListBuckets saw %d buckets", n)
			}
			loc, err := c1.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("logs-eu")})
			if err != nil || loc.LocationConstraint != "eu-west-1" {
				t.Fatalf("GetBucketLocation = %+v, %v", loc, err)
			}
			loc, err = c1.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("site")})
			if err != nil || loc.LocationConstraint != "" {
				t.Fatalf("GetBucketLocation us-east-1 = %+v, %v", loc, err)
			}
			hb, err := c1.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("site")})
			if err != nil || aws.ToString(hb.BucketRegion) != "us-east-1" {
				t.Fatalf("HeadBucket = %+v, %v", hb, err)
			}
			_, err = c1.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("nope-nope")})
			wantAPIError(t, err, "NotFound", 404)
			_, err = c1.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: aws.String("nope-nope")})
			wantAPIError(t, err, "NoSuchBucket", 404)

			// Public access block.
			pab, err := c1.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: aws.String("site")})
			if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
				t.Fatalf("new bucket PAB = %+v, %v", pab, err)
			}
			if _, err := c1.DeletePublicAccessBlock(ctx(t), &s3.DeletePublicAccessBlockInput{Bucket: aws.String("site")}); err != nil {
				t.Fatal(err)
			}
			_, err = c1.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "NoSuchPublicAccessBlockConfiguration", 404)
			_, err = c1.PutPublicAccessBlock(ctx(t), &s3.PutPublicAccessBlockInput{Bucket: aws.String("site"),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(false)}})
			if err != nil {
				t.Fatal(err)
			}
			pab, err = c1.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: aws.String("site")})
			if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
				t.Fatalf("PAB after put = %+v, %v", pab, err)
			}

			// Policy and policy status.
			_, err = c1.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "NoSuchBucketPolicy", 404)
			_, err = c1.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String("nope")})
			wantAPIError(t, err, "MalformedPolicy", 400)
			pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}`
			if _, err := c1.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String(pol)}); err != nil {
				t.Fatal(err)
			}
			gp, err := c1.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: aws.String("site")})
			if err != nil || aws.ToString(gp.Policy) != pol {
				t.Fatalf("GetBucketPolicy = %v, %v", gp, err)
			}
			ps, err := c1.GetBucketPolicyStatus(ctx(t), &s3.GetBucketPolicyStatusInput{Bucket: aws.String("site")})
			if err != nil || !aws.ToBool(ps.PolicyStatus.IsPublic) {
				t.Fatalf("GetBucketPolicyStatus = %+v, %v", ps, err)
			}
			if _, err := c1.DeleteBucketPolicy(ctx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String("site")}); err != nil {
				t.Fatal(err)
			}
			// BlockPublicPolicy refuses a public policy.
			if _, err := c1.PutPublicAccessBlock(ctx(t), &s3.PutPublicAccessBlockInput{Bucket: aws.String("site"),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}}); err != nil {
				t.Fatal(err)
			}
			_, err = c1.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String(pol)})
			wantAPIError(t, err, "AccessDenied", 403)

			// Tagging.
			_, err = c1.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "NoSuchTagSet", 404)
			_, err = c1.PutBucketTagging(ctx(t), &s3.PutBucketTaggingInput{Bucket: aws.String("site"),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("owner"), Value: aws.String("web")}}}})
			if err != nil {
				t.Fatal(err)
			}
			gt, err := c1.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String("site")})
			if err != nil || len(gt.TagSet) != 1 || *gt.TagSet[0].Value != "web" {
				t.Fatalf("GetBucketTagging = %+v, %v", gt, err)
			}
			_, err = c1.GetBucketWebsite(ctx(t), &s3.GetBucketWebsiteInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "NoSuchWebsiteConfiguration", 404)

			// Objects: a non-empty bucket cannot be deleted.
			for _, k := range []string{"a/1.txt", "a/2.txt", "b/3.txt"} {
				if _, err := c1.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String(k), Body: strings.NewReader("hello " + k)}); err != nil {
					t.Fatal(err)
				}
			}
			op := s3.NewListObjectsV2Paginator(c1, &s3.ListObjectsV2Input{Bucket: aws.String("site"), MaxKeys: aws.Int32(2)})
			var keys []string
			for op.HasMorePages() {
				pg, err := op.NextPage(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range pg.Contents {
					keys = append(keys, *o.Key)
				}
			}
			if strings.Join(keys, ",") != "a/1.txt,a/2.txt,b/3.txt" {
				t.Fatalf("ListObjectsV2 keys = %v", keys)
			}
			lo, err := c1.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("site"), Prefix: aws.String("b/")})
			if err != nil || aws.ToInt32(lo.KeyCount) != 1 || aws.ToInt64(lo.Contents[0].Size) != int64(len("hello b/3.txt")) {
				t.Fatalf("ListObjectsV2 prefix = %+v, %v", lo, err)
			}
			_, err = c1.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "BucketNotEmpty", 409)
			ho, err := c1.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String("b/3.txt")})
			if err != nil || aws.ToInt64(ho.ContentLength) != int64(len("hello b/3.txt")) {
				t.Fatalf("HeadObject = %+v, %v", ho, err)
			}
			_, err = c1.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String("missing")})
			wantAPIError(t, err, "NotFound", 404)
			if _, err := c1.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String("site"), Key: aws.String("b/3.txt")}); err != nil {
				t.Fatal(err)
			}
			// Signed for the wrong region: S3 names the bucket's.
			_, err = c1.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String("logs-eu")})
			wantAPIError(t, err, "AuthorizationHeaderMalformed", 400)
			if !strings.Contains(err.Error(), "expecting 'eu-west-1'") {
				t.Fatalf("region mismatch message: %v", err)
			}
			_, err = c1.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("logs-eu")})
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 301 || re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
				t.Fatalf("HeadBucket across regions: %v", err)
			}
			if _, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String("logs-eu")}); err != nil {
				t.Fatal(err)
			}
			if got := sim.Buckets(testAccount); len(got) != 1 || got[0].Objects["a/1.txt"] != int64(len("hello a/1.txt")) || len(got[0].Objects) != 2 {
				t.Fatalf("Sim.Buckets = %+v", got)
			}
			// Another account sees neither the bucket nor may take its name.
			_ = sim.AddCredential(Credential{AccessKeyID: "AKIDOTHER", SecretAccessKey: "s", Account: testAccount2})
			other := s3.NewFromConfig(sdkConfig(url, testRegion, "AKIDOTHER", "s", ""), func(o *s3.Options) { o.UsePathStyle = true })
			_, err = other.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "BucketAlreadyExists", 409)
			_, err = other.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: aws.String("site")})
			wantAPIError(t, err, "AccessDenied", 403)
		})
	}
}

func TestRESTAuthErrors(t *testing.T) {
	_, url := newTestSim(t, Options{})
	bad := sdkConfig(url, testRegion, "AKIDUNKNOWN", "s", "")
	_, err := s3.NewFromConfig(bad, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	wantAPIError(t, err, "InvalidAccessKeyId", 403)
	_, err = cloudtrail.NewFromConfig(bad).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", 400)
	_, err = route53.NewFromConfig(bad).ListHostedZones(ctx(t), &route53.ListHostedZonesInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func TestS3CreateBucketLocation(t *testing.T) {
	_, url := newTestSim(t, Options{})
	c := s3Client(url, "eu-west-1", true)
	_, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("no-constraint")})
	wantAPIError(t, err, "IllegalLocationConstraintException", 400)
}

func TestS3ControlPublicAccessBlock(t *testing.T) {
	_, url := newTestSim(t, Options{})
	cfg := sdkConfig(url, testRegion, testKey, "secret", "")
	cfg.BaseEndpoint = aws.String(strings.Replace(url, "127.0.0.1", "localhost", 1))
	cfg.HTTPClient = loopbackClient(url)
	c := s3control.NewFromConfig(cfg)
	_, err := c.GetPublicAccessBlock(ctx(t), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(testAccount)})
	wantAPIError(t, err, "NoSuchPublicAccessBlockConfiguration", 404)
	_, err = c.PutPublicAccessBlock(ctx(t), &s3control.PutPublicAccessBlockInput{AccountId: aws.String(testAccount),
		PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetPublicAccessBlock(ctx(t), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(testAccount)})
	if err != nil || !aws.ToBool(out.PublicAccessBlockConfiguration.BlockPublicPolicy) || aws.ToBool(out.PublicAccessBlockConfiguration.IgnorePublicAcls) {
		t.Fatalf("GetPublicAccessBlock = %+v, %v", out, err)
	}
	_, err = c.GetPublicAccessBlock(ctx(t), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(testAccount2)})
	wantAPIError(t, err, "AccessDenied", 403)
}
