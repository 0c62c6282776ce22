package approve

import (
	"bytes"
	"testing"
	"time"
)

func BenchmarkToken(b *testing.B) {
	s, _ := NewSigner(SignerConfig{Key: bytes.Repeat([]byte{1}, 32), BaseURL: "https://steward.example.com"})
	c := Claims{ApprovalID: "appr-1", ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1", Choice: ChoiceApprove, Expires: time.Now().Add(48 * time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner(SignerConfig{Key: bytes.Repeat([]byte{1}, 32)})
	tok, _ := s.Token(Claims{ApprovalID: "appr-1", ExecutionARN: "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1", Choice: ChoiceApprove, Expires: time.Now().Add(48 * time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
