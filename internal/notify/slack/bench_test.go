package slack

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// BenchmarkMessage renders one owner's batch: 5 notices of 3 resources.
func BenchmarkMessage(b *testing.B) {
	var ns []notify.Notice
	for i := 0; i < 5; i++ {
		n := testNotice(fmt.Sprint("appr-", i))
		n.Resources = append(n.Resources, n.Resources[0], n.Resources[0])
		ns = append(ns, n)
	}
	b.ReportAllocs()
	for b.Loop() {
		Message(ns)
	}
}

func BenchmarkVerifyAndDecode(b *testing.B) {
	payload := blockActions("U1", "alice", ActionIDPrefix+"0-0", EncodeAction("a1", "arn:x", approve.ChoiceApprove))
	body := []byte("payload=" + urlQueryEscape(payload))
	now := time.Unix(1700000000, 0)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()))
	h.Set("X-Slack-Signature", Sign("secret", now.Unix(), body))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyRequest("secret", h, body, now); err != nil {
			b.Fatal(err)
		}
		if _, _, err := DecodeInteraction([]byte(payload)); err != nil {
			b.Fatal(err)
		}
	}
}
