package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var signTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// TestKnownVector checks the derivation against the example of AWS's
// SigV4 documentation (GET / on example.amazonaws.com, service "service"),
// whose signature aws-sdk-go-v2's signer must produce too.
func TestKnownVector(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Host = "example.amazonaws.com"
	empty := sha256.Sum256(nil)
	creq := CanonicalRequest(r, []string{"host", "x-amz-date"}, hex.EncodeToString(empty[:]))
	sts := StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq)
	sig := hex.EncodeToString(hmacSHA256(SigningKey(testSecret, "20150830", "us-east-1", "service"), []byte(sts)))

	sr, _ := http.NewRequest("GET", "http://example.amazonaws.com/", nil)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, sr,
		hex.EncodeToString(empty[:]), "service", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(sr.Header.Get("Authorization"), "Signature="+sig) {
		t.Fatalf("sdk signed %q, we computed %s", sr.Header.Get("Authorization"), sig)
	}
	const documented = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	if sig != documented {
		t.Errorf("signature %s, AWS documents %s", sig, documented)
	}
}

// sdkCase is a request signed by aws-sdk-go-v2's signer, then changed by
// tamper (if set) before it is sent, and the verification result wanted.
type sdkCase struct {
	name    string
	method  string
	path    string // with query
	headers map[string]string
	body    string
	service string // signed for; default "states"
	region  string
	keyID   string
	secret  string
	at      time.Time // signing time; default signTime
	tamper  func(r *http.Request)
	want    error // nil or a sentinel
	code    string
}

func TestVerifyAgainstSDKSigner(t *testing.T) {
	cases := []sdkCase{
		{name: "json 1.0 StartExecution", method: "POST", path: "/", body: `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:m"}`,
			headers: map[string]string{"X-Amz-Target": "AWSStepFunctions.StartExecution", "Content-Type": "application/x-amz-json-1.0"}},
		{name: "empty body", method: "POST", path: "/"},
		{name: "other region", method: "POST", path: "/", region: "eu-west-3", body: "{}"},
		{name: "GET with query", method: "GET", path: "/a/b?z=1&a=2&a=1&sp=x%20y&e="},
		{name: "path needing escapes", method: "GET", path: "/x%20y/%C3%A9/~a"},
		{name: "header with inner spaces", method: "POST", path: "/", body: "{}", headers: map[string]string{"X-Amz-Meta": "  a   b  c "}},
		{name: "unicode body", method: "POST", path: "/", body: `{"input":"\u00e9\u4e2d"}`},
		{name: "time 14 minutes ago", method: "POST", path: "/", body: "{}", at: signTime.Add(-14 * time.Minute)},
		{name: "time 16 minutes ago", method: "POST", path: "/", body: "{}", at: signTime.Add(-16 * time.Minute), want: ErrExpired, code: "InvalidSignatureException"},
		{name: "time 16 minutes ahead", method: "POST", path: "/", body: "{}", at: signTime.Add(16 * time.Minute), want: ErrExpired, code: "InvalidSignatureException"},
		{name: "wrong secret", method: "POST", path: "/", body: "{}", secret: "not-the-secret", want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "unknown key", method: "POST", path: "/", body: "{}", keyID: "AKIDUNKNOWN", want: ErrUnknownKey, code: "UnrecognizedClientException"},
		{name: "wrong service", method: "POST", path: "/", body: "{}", service: "events", want: ErrMalformed, code: "InvalidSignatureException"},
		{name: "body changed", method: "POST", path: "/", body: `{"a":1}`, tamper: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
		}, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "signed header changed", method: "POST", path: "/", body: "{}", headers: map[string]string{"X-Amz-Target": "AWSStepFunctions.StartExecution"},
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "AWSStepFunctions.DeleteStateMachine") }, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "query changed", method: "GET", path: "/?a=1", tamper: func(r *http.Request) { r.URL.RawQuery = "a=2" }, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "method changed", method: "POST", path: "/", tamper: func(r *http.Request) { r.Method = "PUT" }, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "no authorization", method: "POST", path: "/", body: "{}", tamper: func(r *http.Request) { r.Header.Del("Authorization") }, want: ErrMissingAuth, code: "MissingAuthenticationTokenException"},
		{name: "signature not hex", method: "POST", path: "/", body: "{}", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "Signature=")]+"Signature=zz")
		}, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
		{name: "other algorithm", method: "POST", path: "/", body: "{}", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1))
		}, want: ErrMalformed, code: "IncompleteSignatureException"},
		{name: "date changed", method: "POST", path: "/", body: "{}", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", signTime.Add(time.Second).Format(TimeFormat))
		}, want: ErrSignatureMismatch, code: "InvalidSignatureException"},
	}
	type result struct {
		id  Identity
		err error
	}
	var mu sync.Mutex
	var got result
	ver := &Verifier{Keys: StaticKeys{testKeyID: testSecret}, Service: "states", Now: func() time.Time { return signTime }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := ver.Verify(r, body)
		mu.Lock()
		got = result{id, err}
		mu.Unlock()
	}))
	defer srv.Close()
	pass := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader([]byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			service, region, keyID, secret, at := c.service, c.region, c.keyID, c.secret, c.at
			if service == "" {
				service = "states"
			}
			if region == "" {
				region = "us-east-1"
			}
			if keyID == "" {
				keyID = testKeyID
			}
			if secret == "" {
				secret = testSecret
			}
			if at.IsZero() {
				at = signTime
			}
			h := sha256.Sum256([]byte(c.body))
			// A new signer each time: the SDK's caches derived keys by key id.
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, r, hex.EncodeToString(h[:]), service, region, at); err != nil {
				t.Fatal(err)
			}
			if c.tamper != nil {
				c.tamper(r)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			res := got
			mu.Unlock()
			if c.want == nil {
				if res.err != nil {
					t.Fatalf("verify: %v", res.err)
				}
				if res.id.AccessKeyID != keyID || res.id.Region != region {
					t.Fatalf("identity %+v", res.id)
				}
				pass++
				return
			}
			var ve *Error
			if !errors.Is(res.err, c.want) || !errors.As(res.err, &ve) || ve.Code != c.code {
				t.Fatalf("got %v, want %v (%s)", res.err, c.want, c.code)
			}
			pass++
		})
	}
	t.Logf("%d/%d requests signed by aws-sdk-go-v2 verified as expected", pass, len(cases))
}

func TestParseAuthorizationRejects(t *testing.T) {
	cases := []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/states/aws4_request",
		"AWS4-HMAC-SHA256 Credential=a/2015/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/states/aws5_request, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/states/aws4_request, SignedHeaders=x-amz-date;host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/states/aws4_request, SignedHeaders=Host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/states/aws4_request, SignedHeaders=, Signature=00",
		"AWS4-HMAC-SHA256 garbage",
	}
	for _, h := range cases {
		if _, err := parseAuthorization(h); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", h, err)
		}
	}
}

func TestHostMustBeSigned(t *testing.T) {
	r := httptest.NewRequest("POST", "http://h/", nil)
	r.Header.Set("X-Amz-Date", signTime.Format(TimeFormat))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20150830/us-east-1/states/aws4_request, SignedHeaders=x-amz-date, Signature=00")
	v := &Verifier{Keys: StaticKeys{testKeyID: testSecret}, Service: "states", Now: func() time.Time { return signTime }}
	if _, err := v.Verify(r, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v", err)
	}
}

// FuzzVerify feeds arbitrary Authorization headers, dates and bodies: the
// verifier must never panic and never accept them.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20150830T123600Z", "{}", "/?a=b")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=content-length;host;x-amz-date;x-amz-target, Signature=zz", "", "", "/%zz")
	f.Add("AWS4-HMAC-SHA256 ,,,==", "2015", "\x00", "/")
	f.Fuzz(func(t *testing.T, auth, date, body, target string) {
		r, err := http.NewRequest("POST", "http://h"+target, nil)
		if err != nil {
			return
		}
		r.Header.Set("Authorization", auth)
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		v := &Verifier{Keys: StaticKeys{testKeyID: testSecret}, Service: "states", Now: func() time.Time { return signTime }}
		if _, err := v.Verify(r, []byte(body)); err == nil {
			t.Fatalf("accepted %q", auth)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:m","input":"{}"}`)
	r, _ := http.NewRequest("POST", "http://127.0.0.1:8600/", bytes.NewReader(body))
	r.Header.Set("X-Amz-Target", "AWSStepFunctions.StartExecution")
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	h := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, r, hex.EncodeToString(h[:]), "states", "us-east-1", signTime); err != nil {
		b.Fatal(err)
	}
	r.Host = r.URL.Host
	v := &Verifier{Keys: StaticKeys{testKeyID: testSecret}, Service: "states", Now: func() time.Time { return signTime }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
