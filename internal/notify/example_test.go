package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// printer is a stand-in channel for the example.
type printer struct{}

func (printer) Notify(_ context.Context, to notify.Recipient, ns ...notify.Notice) (notify.Receipt, error) {
	fmt.Printf("%s: %d notice(s): %s\n", to, len(ns), notify.Subject(ns))
	return notify.Receipt{To: to, ID: "1", Notices: ns}, nil
}

// How the engine side uses the package: sign a link per choice, route each
// notice to its owner, batch per recipient, send one message each, keep the
// receipts (to update Slack messages when someone decides).
func Example() {
	ctx := context.Background()
	deadline := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	signer, _ := approve.NewSigner(approve.SignerConfig{Key: approve.NewKey(), BaseURL: "https://steward.example.com",
		Now: func() time.Time { return deadline.Add(-48 * time.Hour) }})
	router := notify.NewRouter(notify.RouterConfig{Domain: "example.com",
		Fallback: map[string][]notify.Recipient{"": {{Kind: notify.KindEmail, Address: "secops@example.com"}}}})
	channels := notify.Mux{notify.KindEmail: printer{}}

	var notices []notify.Notice
	for i, owner := range []string{"arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:root"} {
		id := fmt.Sprintf("appr-%d", i)
		exec := "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1"
		n := notify.Notice{
			ApprovalID: id, ExecutionARN: exec, Playbook: "ebs-unused", Title: "EBS volume unattached for 45 days",
			Resources: []notify.Resource{{Account: "111111111111", Region: "us-east-1", ID: fmt.Sprintf("vol-%d", i), Owner: owner}},
			Action:    "snapshot and delete the volume", Deadline: deadline, DefaultAction: approve.ChoiceApprove,
			Choices: notify.Choices(false, func(c approve.Choice) string {
				return signer.Link(approve.Claims{ApprovalID: id, ExecutionARN: exec, Choice: c, Expires: deadline})
			}),
		}
		router.Address(ctx, &n)
		notices = append(notices, n)
	}
	batches := notify.Batch(notices)
	for _, to := range []notify.Recipient{{Kind: notify.KindEmail, Address: "alice@example.com"}, {Kind: notify.KindEmail, Address: "secops@example.com"}} {
		if _, err := channels.Notify(ctx, to, batches[to]...); err != nil {
			fmt.Println("error:", err)
		}
	}
	// Output:
	// email:alice@example.com: 2 notice(s): [steward] 2 findings on 2 resources - decide by Tue 24 Nov 2026 09:00 UTC
	// email:secops@example.com: 1 notice(s): [steward] ebs-unused: EBS volume unattached for 45 days (1 resource) - decide by Tue 24 Nov 2026 09:00 UTC
}
