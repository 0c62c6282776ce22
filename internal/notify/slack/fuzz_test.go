package slack

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
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

// FuzzMessage: outside strings must not make links or mentions in Slack.
func FuzzMessage(f *testing.F) {
	f.Add("Policy <!channel>", "<https://evil.test|Approve>", "alice")
	f.Add("&lt;", ">", "<@U1>")
	f.Fuzz(func(t *testing.T, title, id, owner string) {
		n := testNotice("a")
		n.Title, n.Resources[0].ID, n.Owner.Raw, n.Owner.Email, n.Note, n.Playbook = title, id, owner, owner, owner, title
		m := Message([]notify.Notice{n})
		// plain_text (the header, button labels) is never parsed by Slack;
		// mrkdwn and the fallback text are.
		raw := m.Text + mrkdwnTexts(m.Blocks)
		// The only '<' steward writes itself is the owner mention <@UALICE>.
		if strings.Count(raw, "<") != 1 || strings.Count(raw, ">") != 1 {
			t.Fatalf("markup from input: %s", raw)
		}
	})
}

func mrkdwnTexts(v any) string {
	var b strings.Builder
	switch x := v.(type) {
	case []Block:
		for _, e := range x {
			b.WriteString(mrkdwnTexts(e))
		}
	case Block:
		if x["type"] == "mrkdwn" {
			b.WriteString(x["text"].(string))
		}
		for _, e := range x {
			switch e.(type) {
			case Block, []Block:
				b.WriteString(mrkdwnTexts(e))
			}
		}
	}
	return b.String()
}
