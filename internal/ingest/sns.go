package ingest

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SNSMessage is an Amazon SNS HTTP(S) delivery.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL"`
	UnsubscribeURL   string `json:"UnsubscribeURL"`
}

// SNS message types.
const (
	SNSNotification             = "Notification"
	SNSSubscriptionConfirmation = "SubscriptionConfirmation"
	SNSUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// ErrBadSignature is returned for an SNS message whose signature does not
// verify, or whose certificate does not come from SNS.
var ErrBadSignature = errors.New("SNS message signature does not verify")

// snsHost is where SNS certificates and subscription URLs live.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// SNSVerifier checks SNS message signatures. Certificates are fetched over
// HTTPS from SNS's own hosts only, and cached.
type SNSVerifier struct {
	// FetchCert returns the PEM certificate at a URL; nil fetches it with
	// http.Get. Tests give their own.
	FetchCert func(ctx context.Context, url string) ([]byte, error)
	// TrustedCertURL reports whether a SigningCertURL may be used; nil
	// accepts https://sns.<region>.amazonaws.com/... only.
	TrustedCertURL func(u *url.URL) bool
	// MaxAge refuses messages older than this (replays); 0 means one hour.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// DecodeSNS parses an SNS delivery.
func DecodeSNS(body []byte) (*SNSMessage, error) {
	var m SNSMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch m.Type {
	case SNSNotification, SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation:
	default:
		return nil, fmt.Errorf("%w: unknown SNS message type %q", ErrMalformed, m.Type)
	}
	if m.MessageID == "" || m.TopicArn == "" || m.Timestamp == "" {
		return nil, fmt.Errorf("%w: an SNS message needs MessageId, TopicArn and Timestamp", ErrMalformed)
	}
	return &m, nil
}

// stringToSign is the text SNS signs, by message type.
func (m *SNSMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == SNSNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
		return b.String()
	}
	add("SubscribeURL", m.SubscribeURL)
	add("Timestamp", m.Timestamp)
	add("Token", m.Token)
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// Verify checks the message's signature and age.
func (v *SNSVerifier) Verify(ctx context.Context, m *SNSMessage) error {
	u, err := url.Parse(m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("%w: SigningCertURL: %v", ErrBadSignature, err)
	}
	trusted := v.TrustedCertURL
	if trusted == nil {
		trusted = func(u *url.URL) bool { return u.Scheme == "https" && snsHost.MatchString(u.Hostname()) }
	}
	if !trusted(u) {
		return fmt.Errorf("%w: certificate URL %q is not an SNS host", ErrBadSignature, m.SigningCertURL)
	}
	ts, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: Timestamp %q", ErrBadSignature, m.Timestamp)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	maxAge := v.MaxAge
	if maxAge == 0 {
		maxAge = time.Hour
	}
	if age := now().Sub(ts); age > maxAge || age < -5*time.Minute {
		return fmt.Errorf("%w: the message is %s old", ErrBadSignature, age.Round(time.Second))
	}
	cert, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the certificate has no RSA key", ErrBadSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	text := []byte(m.stringToSign())
	switch m.SignatureVersion {
	case "1":
		sum := sha1.Sum(text)
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256(text)
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		return fmt.Errorf("%w: unknown SignatureVersion %q", ErrBadSignature, m.SignatureVersion)
	}
	if err != nil {
		return fmt.Errorf("%w", ErrBadSignature)
	}
	return nil
}

func (v *SNSVerifier) cert(ctx context.Context, certURL string) (*x509.Certificate, error) {
	v.mu.Lock()
	c, ok := v.certs[certURL]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	fetch := v.FetchCert
	if fetch == nil {
		fetch = httpGet
	}
	data, err := fetch(ctx, certURL)
	if err != nil {
		return nil, fmt.Errorf("fetch SNS certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: the certificate is not PEM", ErrBadSignature)
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	v.mu.Lock()
	if v.certs == nil {
		v.certs = map[string]*x509.Certificate{}
	}
	v.certs[certURL] = c
	v.mu.Unlock()
	return c, nil
}

var certClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := certClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}

// SNSEvent turns a verified Notification into the event it carries: the
// Message when it is JSON (an EventBridge event delivered through SNS, a
// Security Hub finding, ...), else the whole SNS message.
func SNSEvent(m *SNSMessage, received time.Time) (Event, error) {
	if json.Valid([]byte(m.Message)) && strings.HasPrefix(strings.TrimSpace(m.Message), "{") {
		ev, err := NewEvent([]byte(m.Message), "sns", received)
		if err != nil {
			return Event{}, err
		}
		if strings.HasPrefix(ev.ID, "sha256-") {
			ev.ID = "sns-" + m.MessageID
		}
		return ev, nil
	}
	body, _ := json.Marshal(map[string]any{
		"source": "aws.sns", "id": "sns-" + m.MessageID, "detail-type": "SNS Notification", "time": m.Timestamp,
		"detail": map[string]any{"TopicArn": m.TopicArn, "Subject": m.Subject, "Message": m.Message},
	})
	return NewEvent(body, "sns", received)
}
