package slack

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
)

// FuzzDecodeInteraction: the payload is outside input (after the signature
// check, but a bug in Slack or in the check must not crash steward).
func FuzzDecodeInteraction(f *testing.F) {
	f.Add(blockActions("U1", "alice", ActionIDPrefix+"0-0", EncodeAction("a1", "arn:x", approve.ChoiceApprove)))
	f.Add(blockActions("U1", "", ActionIDPrefix+"0-0", `{"v":1,"a":"a1","c":"deny"}`))
	f.Add(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"steward-choice-","value":"null"}]}`)
	f.Add(`{"type":"block_actions","actions":null}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, payload string) {
		in, ds, err := DecodeInteraction([]byte(payload))
		if err != nil {
			if ds != nil {
				t.Fatal("decisions with an error")
			}
			return
		}
		if len(ds) == 0 {
			t.Fatal("no decisions and no error")
		}
		for _, d := range ds {
			if d.ApprovalID == "" || !d.Choice.Valid() || d.Channel != "slack" || d.By.ID != in.User.ID || d.By.ID == "" {
				t.Fatalf("bad decision %+v", d)
			}
		}
	})
}

// FuzzVerifyRequest: the signature headers are outside input.
func FuzzVerifyRequest(f *testing.F) {
	now := time.Unix(1700000000, 0)
	body := []byte("payload=%7B%7D")
	f.Add("1700000000", Sign("k", 1700000000, body), body)
	f.Add("", "", []byte(nil))
	f.Add("-9223372036854775808", "v0=", body)
	f.Add("99999999999999999999", "v0=00", body)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		err := VerifyRequest("k", h, body, now)
		if err == nil {
			n, _ := strconv.ParseInt(ts, 10, 64)
			if sig != Sign("k", n, body) {
				t.Fatalf("accepted a signature we did not make: ts %q sig %q", ts, sig)
			}
		}
	})
}
