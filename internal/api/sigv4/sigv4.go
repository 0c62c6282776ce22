// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests
// (the Authorization header form that the AWS SDKs and CLI send), so that
// steward's AWS-compatible endpoints accept requests from unchanged AWS
// tools signed with steward's access keys.
//
// What is checked: the Authorization header's algorithm, credential scope
// (access key, date, any region, the verifier's service, aws4_request) and
// signed headers (host must be one); X-Amz-Date (or Date) within MaxSkew of
// now and on the scope's date; the canonical request rebuilt from the
// request and the SHA-256 of the body actually received; and the signature,
// compared in constant time. Presigned (query string) requests are not
// accepted.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// TimeFormat is X-Amz-Date's layout.
const TimeFormat = "20060102T150405Z"

// DefaultMaxSkew is how far a request's date may be from the verifier's
// clock, as in AWS.
const DefaultMaxSkew = 15 * time.Minute

// Sentinel errors; every *Error matches one of them with errors.Is.
var (
	// ErrMissingAuth: the request carries no Authorization header.
	ErrMissingAuth = errors.New("missing authentication token")
	// ErrMalformed: the Authorization header or the date cannot be parsed,
	// or the credential scope is wrong.
	ErrMalformed = errors.New("malformed authorization")
	// ErrUnknownKey: the access key id is not known.
	ErrUnknownKey = errors.New("unknown access key")
	// ErrExpired: the request's date is too far from now.
	ErrExpired = errors.New("signature expired")
	// ErrSignatureMismatch: the signature does not match.
	ErrSignatureMismatch = errors.New("signature does not match")
)

// Error is a failed verification, with the code AWS services answer.
type Error struct {
	// Code is AWS's error code: MissingAuthenticationTokenException,
	// UnrecognizedClientException, InvalidSignatureException or
	// IncompleteSignatureException.
	Code string
	// Message is the message to show the client.
	Message string
	// Err is one of the sentinel errors.
	Err error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Keys looks up the secret of an access key.
type Keys interface {
	// Secret returns the secret access key of accessKeyID; ok is false
	// when the key is unknown.
	Secret(accessKeyID string) (secret string, ok bool)
}

// StaticKeys maps access key ids to secrets.
type StaticKeys map[string]string

var _ Keys = StaticKeys(nil)

// Secret implements Keys.
func (k StaticKeys) Secret(id string) (string, bool) {
	s, ok := k[id]
	return s, ok
}

// Verifier checks signatures for one service ("states", "events", ...).
// It is safe for concurrent use.
type Verifier struct {
	// Keys holds the accepted access keys.
	Keys Keys
	// Service is the signing name in the credential scope.
	Service string
	// Now tells the time; default time.Now.
	Now func() time.Time
	// MaxSkew bounds the request date's distance from now; default
	// DefaultMaxSkew.
	MaxSkew time.Duration

	mu    sync.Mutex
	cache map[string][]byte // secret|date|region -> signing key
}

// Identity is who signed a verified request.
type Identity struct {
	AccessKeyID string
	Region      string
}

// Verify checks r's signature; body is the request body as received
// (r.Body is not read). It returns an *Error when the request is not
// correctly signed.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL.Query().Has("X-Amz-Signature") {
			return Identity{}, fail("IncompleteSignatureException", "Presigned requests are not supported; sign the Authorization header.", ErrMalformed)
		}
		return Identity{}, fail("MissingAuthenticationTokenException", "Missing Authentication Token", ErrMissingAuth)
	}
	a, err := parseAuthorization(auth)
	if err != nil {
		return Identity{}, err
	}
	if a.service != v.Service {
		return Identity{}, fail("InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.Service), ErrMalformed)
	}
	if !contains(a.signed, "host") {
		return Identity{}, fail("InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.", ErrMalformed)
	}
	dateText := r.Header.Get("X-Amz-Date")
	if dateText != "" && !contains(a.signed, "x-amz-date") {
		return Identity{}, fail("InvalidSignatureException", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", ErrMalformed)
	}
	when, err := requestTime(r, dateText)
	if err != nil {
		return Identity{}, err
	}
	if when.Format("20060102") != a.date {
		return Identity{}, fail("InvalidSignatureException", fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.date, when.Format("20060102"), when.Format(TimeFormat)), ErrMalformed)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if when.Before(now.Add(-skew)) {
		return Identity{}, fail("InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)", when.Format(TimeFormat), now.Add(-skew).UTC().Format(TimeFormat), now.UTC().Format(TimeFormat), skew), ErrExpired)
	}
	if when.After(now.Add(skew)) {
		return Identity{}, fail("InvalidSignatureException", fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)", when.Format(TimeFormat), now.Add(skew).UTC().Format(TimeFormat), now.UTC().Format(TimeFormat), skew), ErrExpired)
	}
	secret, ok := v.Keys.Secret(a.accessKeyID)
	if !ok {
		return Identity{}, fail("UnrecognizedClientException", "The security token included in the request is invalid.", ErrUnknownKey)
	}
	payloadHash := sha256.Sum256(body)
	creq := CanonicalRequest(r, a.signed, hex.EncodeToString(payloadHash[:]))
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	sts := StringToSign(when.Format(TimeFormat), scope, creq)
	key := v.signingKey(secret, a.date, a.region)
	want := hmacSHA256(key, []byte(sts))
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(want, got) {
		return Identity{}, fail("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", ErrSignatureMismatch)
	}
	return Identity{AccessKeyID: a.accessKeyID, Region: a.region}, nil
}

func fail(code, msg string, err error) *Error { return &Error{Code: code, Message: msg, Err: err} }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// requestTime reads X-Amz-Date, or the Date header when it is absent.
func requestTime(r *http.Request, amzDate string) (time.Time, error) {
	if amzDate != "" {
		t, err := time.Parse(TimeFormat, amzDate)
		if err != nil {
			return time.Time{}, fail("IncompleteSignatureException", fmt.Sprintf("X-Amz-Date %q is not in the form %s.", amzDate, TimeFormat), ErrMalformed)
		}
		return t, nil
	}
	d := r.Header.Get("Date")
	if d == "" {
		return time.Time{}, fail("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", ErrMalformed)
	}
	t, err := http.ParseTime(d)
	if err != nil {
		return time.Time{}, fail("IncompleteSignatureException", fmt.Sprintf("Date header %q is not an HTTP date.", d), ErrMalformed)
	}
	return t.UTC(), nil
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKeyID, date, region, service string
	signed                             []string
	signature                          string
}

// parseAuthorization parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != Algorithm {
		return a, fail("IncompleteSignatureException", "Authorization header must use the "+Algorithm+" algorithm.", ErrMalformed)
	}
	var cred, signed string
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fail("IncompleteSignatureException", fmt.Sprintf("Authorization header requires each component to be KEY=VALUE, got %q.", strings.TrimSpace(part)), ErrMalformed)
		}
		switch k {
		case "Credential":
			cred, haveCred = val, true
		case "SignedHeaders":
			signed, haveSigned = val, true
		case "Signature":
			a.signature, haveSig = val, true
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return a, fail("IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.", ErrMalformed)
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[4] != "aws4_request" {
		return a, fail("IncompleteSignatureException", fmt.Sprintf("Credential should be of the form ACCESSKEY/YYYYMMDD/REGION/SERVICE/aws4_request, got %q.", cred), ErrMalformed)
	}
	if _, err := time.Parse("20060102", parts[1]); err != nil {
		return a, fail("IncompleteSignatureException", fmt.Sprintf("Credential date %q is not YYYYMMDD.", parts[1]), ErrMalformed)
	}
	a.accessKeyID, a.date, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	if signed == "" {
		return a, fail("IncompleteSignatureException", "SignedHeaders must not be empty.", ErrMalformed)
	}
	a.signed = strings.Split(signed, ";")
	for i, s := range a.signed {
		if s == "" || s != strings.ToLower(s) || (i > 0 && a.signed[i-1] >= s) {
			return a, fail("IncompleteSignatureException", "SignedHeaders must be lowercase header names, sorted, separated by ';'.", ErrMalformed)
		}
	}
	return a, nil
}

// CanonicalRequest builds SigV4's canonical request of r over the signed
// headers (lowercase, sorted), with payloadHash the hex SHA-256 of the
// body.
func CanonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.Grow(256 + len(r.URL.RawQuery))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// StringToSign builds SigV4's string to sign.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// SigningKey derives the key of a day, region and service from a secret.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

// signingKey caches SigningKey: it changes once a day per key and region.
func (v *Verifier) signingKey(secret, date, region string) []byte {
	ck := secret + "|" + date + "|" + region
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.cache[ck]; ok {
		return k
	}
	if v.cache == nil || len(v.cache) > 1024 {
		v.cache = map[string][]byte{}
	}
	k := SigningKey(secret, date, region, v.Service)
	v.cache[ck] = k
	return k
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// headerValue renders a signed header's canonical value: values trimmed,
// inner runs of spaces collapsed, several values joined by commas. Go's
// server moves Host and Content-Length out of the header map.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
			vals = vs
		} else if r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, s := range vals {
		out[i] = strings.Join(strings.Fields(s), " ")
	}
	return strings.Join(out, ",")
}

// canonicalURI escapes the path once more, as SigV4 requires for every
// service but S3.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return escape(p, false)
}

// canonicalQuery sorts the query by name, then value, each escaped.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(val); err == nil {
			val = uv
		}
		pairs = append(pairs, kv{escape(k, true), escape(val, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// escape percent-encodes everything but RFC 3986's unreserved characters
// (and '/' unless encodeSlash).
func escape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
