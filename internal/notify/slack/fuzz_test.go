package slack

import (
	"testing"

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
