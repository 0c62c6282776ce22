package ingest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"
)

// snsSigner plays SNS: it signs messages with a key whose certificate the
// verifier fetches.
type snsSigner struct {
	key     *rsa.PrivateKey
	certPEM []byte
}

func newSNSSigner(t *testing.T) *snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &snsSigner{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (s *snsSigner) sign(t *testing.T, m *SNSMessage) {
	t.Helper()
	m.SigningCertURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
	text := []byte(m.stringToSign())
	var sig []byte
	var err error
	if m.SignatureVersion == "1" {
		sum := sha1.Sum(text)
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, sum[:])
	} else {
		m.SignatureVersion = "2"
		sum := sha256.Sum256(text)
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func TestSNSVerify(t *testing.T) {
	signer := newSNSSigner(t)
	fetches := 0
	v := &SNSVerifier{
		FetchCert: func(_ context.Context, u string) ([]byte, error) { fetches++; return signer.certPEM, nil },
		Now:       func() time.Time { return now },
	}
	event := `{"version":"0","id":"ev-1","source":"aws.securityhub","detail-type":"Security Hub Findings - Imported","time":"2026-11-02T09:59:00Z","detail":{}}`
	msg := &SNSMessage{Type: SNSNotification, MessageID: "m-1", TopicArn: "arn:aws:sns:eu-west-1:111122223333:findings", Message: event, Timestamp: now.Add(-time.Minute).Format(time.RFC3339)}
	signer.sign(t, msg)
	body, _ := json.Marshal(msg)
	decoded, err := DecodeSNS(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(context.Background(), decoded); err != nil {
		t.Fatalf("a signed notification: %v", err)
	}
	ev, err := SNSEvent(decoded, now)
	if err != nil || ev.ID != "ev-1" || ev.Source != "aws.securityhub" {
		t.Errorf("event from SNS: %+v %v", ev, err)
	}

	v1 := *msg
	v1.SignatureVersion = "1"
	signer.sign(t, &v1)
	if err := v.Verify(context.Background(), &v1); err != nil {
		t.Errorf("SignatureVersion 1: %v", err)
	}

	tampered := *msg
	tampered.Message = `{"version":"0","id":"forged","source":"aws.ec2","detail":{}}`
	if err := v.Verify(context.Background(), &tampered); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered message: %v", err)
	}
	foreign := *msg
	foreign.SigningCertURL = "https://attacker.example.com/cert.pem"
	if err := v.Verify(context.Background(), &foreign); !errors.Is(err, ErrBadSignature) {
		t.Errorf("certificate from a foreign host: %v", err)
	}
	old := *msg
	old.Timestamp = now.Add(-2 * time.Hour).Format(time.RFC3339)
	signer.sign(t, &old)
	if err := v.Verify(context.Background(), &old); !errors.Is(err, ErrBadSignature) {
		t.Errorf("replayed old message: %v", err)
	}
	if fetches != 1 {
		t.Errorf("certificate fetched %d times, want once (cached)", fetches)
	}

	confirm := &SNSMessage{Type: SNSSubscriptionConfirmation, MessageID: "m-2", Token: "tok", TopicArn: msg.TopicArn, Message: "You have chosen to subscribe", SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok", Timestamp: msg.Timestamp}
	signer.sign(t, confirm)
	if err := v.Verify(context.Background(), confirm); err != nil {
		t.Errorf("subscription confirmation: %v", err)
	}
	if _, err := DecodeSNS([]byte(`{"Type":"Other","MessageId":"1","TopicArn":"a","Timestamp":"t"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown type: %v", err)
	}
}

func FuzzDecodeSNS(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"1","TopicArn":"arn","Timestamp":"2026-01-01T00:00:00Z","Message":"{}"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeSNS(body)
		if err != nil {
			return
		}
		_ = m.stringToSign()
		_, _ = SNSEvent(m, now)
	})
}
