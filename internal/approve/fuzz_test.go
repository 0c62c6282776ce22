package approve

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary tokens to Verify: it must not panic, must
// answer with one of its sentinels, and must accept only tokens it signed.
func FuzzVerify(f *testing.F) {
	clk := &fakeNow{t: t0}
	s, _ := NewSigner(SignerConfig{Key: bytes.Repeat([]byte{7}, 32), Now: clk.Now})
	good, _ := s.Token(Claims{ApprovalID: "appr-1", ExecutionARN: "arn:x", Choice: ChoiceApprove, Expires: t0.Add(time.Hour), Nonce: "n"})
	f.Add(good)
	f.Add("")
	f.Add("v1.")
	f.Add("v1....")
	f.Add("v1.deadbeef.e30.AAAA")
	f.Add(good[:len(good)-1] + "A")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err != nil {
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUnknown) && !errors.Is(err, ErrExpired) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if c.ApprovalID == "" || !c.Choice.Valid() || c.Nonce == "" {
			t.Fatalf("accepted incomplete claims %+v", c)
		}
		if tok != good {
			// Another accepted token must carry the same claims: only
			// re-encodings of the signed payload could pass, and the MAC
			// covers the encoded payload, so none should.
			t.Fatalf("accepted a token we did not sign: %q", tok)
		}
	})
}
