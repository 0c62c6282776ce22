// Package notify tells people what steward found and what it will do, and
// offers them choices: the message model (Notice), the Notifier interface
// its channels implement (notify/slack, notify/email, notify/webhook,
// notify/snstopic), owner routing (Router), batching (Batch) and delivery
// retries (Retry).
//
// One message goes to one recipient and may carry several notices: Batch
// groups the notices of a playbook run by recipient, so that an owner gets
// one message listing all their resources, not one per resource.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/approve"
)

// Resource is one thing a notice is about.
type Resource struct {
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	ID      string `json:"id,omitempty"`   // e.g. vol-0123..., or a name
	ARN     string `json:"arn,omitempty"`  // when known
	Type    string `json:"type,omitempty"` // e.g. AWS::EC2::Volume
	Owner   string `json:"owner,omitempty"`
}

// Name is the most specific identifier of r.
func (r Resource) Name() string {
	if r.ID != "" {
		return r.ID
	}
	return r.ARN
}

// Owner is who a notice is for, as steward found them and as routed.
type Owner struct {
	// Raw is the owner as found: the owner tag, or the CloudTrail creator
	// (an IAM ARN, a session name, an e-mail address).
	Raw       string `json:"raw,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	SlackUser string `json:"slackUser,omitempty"`
}

// Option is one choice offered to the owner, with the approval link that
// makes it (from approve.Signer.Link). Slack carries the choice in a button
// value instead of the link.
type Option struct {
	Choice approve.Choice `json:"choice"`
	Label  string         `json:"label,omitempty"` // defaults to Choice.Label()
	URL    string         `json:"url,omitempty"`
}

// Text is the option's label.
func (o Option) Text() string {
	if o.Label != "" {
		return o.Label
	}
	return o.Choice.Label()
}

// Notice is what one approval asks of its owner: what was found, where, who
// owns it, what will happen and when, and the choices. It is plain data,
// JSON-encodable, so the engine can keep it with the execution.
type Notice struct {
	ApprovalID   string     `json:"approvalId"`
	ExecutionARN string     `json:"executionArn"` // the playbook run
	Playbook     string     `json:"playbook"`
	Title        string     `json:"title"`            // the finding, e.g. "EBS volume unattached for 45 days"
	Detail       string     `json:"detail,omitempty"` // more words on the finding
	Resources    []Resource `json:"resources"`
	Owner        Owner      `json:"owner"`
	AccountClass string     `json:"accountClass,omitempty"` // production, development, ...

	// Action is what steward will do, e.g. "snapshot and delete the volume".
	Action string `json:"action"`
	// Deadline is when steward applies DefaultAction if nobody decides.
	Deadline      time.Time      `json:"deadline"`
	DefaultAction approve.Choice `json:"defaultAction"`
	Choices       []Option       `json:"choices"`

	// Reminder is 0 for the first notice and n for the n-th reminder.
	Reminder int `json:"reminder,omitempty"`
	// Note is shown prominently, e.g. why the notice went to a fallback.
	Note string `json:"note,omitempty"`
	// To is where the notice goes (set by Router.Address or the caller);
	// Batch groups by it.
	To []Recipient `json:"to,omitempty"`

	// Decision, when set, is the decision already taken (Update renders it).
	Decision *approve.Decision `json:"decision,omitempty"`
}

// Choices returns the options for an approval in the talk's policy: fix
// now, an exception for a month, one for a year where allowed (production
// by default), and deny. link makes the approval link for a choice (nil
// leaves URLs empty, e.g. for Slack-only notices).
func Choices(allowYear bool, link func(approve.Choice) string) []Option {
	cs := []approve.Choice{approve.ChoiceApprove, approve.ChoiceException1M}
	if allowYear {
		cs = append(cs, approve.ChoiceException1Y)
	}
	cs = append(cs, approve.ChoiceDeny)
	out := make([]Option, len(cs))
	for i, c := range cs {
		out[i] = Option{Choice: c}
		if link != nil {
			out[i].URL = link(c)
		}
	}
	return out
}

// Kind is a delivery channel.
type Kind string

// The channels.
const (
	KindEmail   Kind = "email"   // Address: an e-mail address
	KindSlack   Kind = "slack"   // Address: a Slack user id (U...) or channel id/name
	KindWebhook Kind = "webhook" // Address: a URL
	KindSNS     Kind = "sns"     // Address: an SNS topic ARN
)

// Recipient is where a message goes. It is comparable, so it can key maps.
type Recipient struct {
	Kind    Kind   `json:"kind"`
	Address string `json:"address"`
}

func (r Recipient) String() string { return string(r.Kind) + ":" + r.Address }

// Receipt says where a message went, enough to update it later. It is
// JSON-encodable so the engine can keep it.
type Receipt struct {
	To Recipient `json:"to"`
	// ID is the channel's message id: Slack "CHANNEL/TS", e-mail
	// Message-ID, SNS MessageId, webhook the delivery id.
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Notices are the notices as sent, so Update can render them again.
	Notices []Notice `json:"notices,omitempty"`
}

// Notifier sends notices through one channel.
type Notifier interface {
	// Notify sends one message to one recipient carrying the notices (one
	// or more; see Batch). Transient failures are retried within the
	// notifier's retry policy; the error then says so (a *DeliveryError)
	// and the caller may try again later.
	Notify(ctx context.Context, to Recipient, notices ...Notice) (Receipt, error)
}

// Updater is implemented by notifiers whose messages can be changed after
// they were sent (Slack): Update shows the decision and who made it.
type Updater interface {
	// Update rewrites the message of r to show d (and any decisions already
	// recorded in r.Notices).
	Update(ctx context.Context, r Receipt, d approve.Decision) error
}

// Mux sends each recipient's messages through the notifier of its kind.
type Mux map[Kind]Notifier

var _ Notifier = Mux(nil)

// ErrNoNotices means Notify was called without notices; nothing is sent.
var ErrNoNotices = errors.New("notify: no notices to send")

// ErrNoNotifier means no notifier is configured for a recipient's kind.
var ErrNoNotifier = errors.New("notify: no notifier for this kind of recipient")

// Notify implements Notifier.
func (m Mux) Notify(ctx context.Context, to Recipient, notices ...Notice) (Receipt, error) {
	n, ok := m[to.Kind]
	if !ok {
		return Receipt{}, fmt.Errorf("notify %s: %w", to, ErrNoNotifier)
	}
	return n.Notify(ctx, to, notices...)
}

// Update calls the Updater of r's kind; kinds that cannot update (e-mail,
// SNS, webhooks) are a no-op.
func (m Mux) Update(ctx context.Context, r Receipt, d approve.Decision) error {
	if u, ok := m[r.To.Kind].(Updater); ok {
		return u.Update(ctx, r, d)
	}
	return nil
}
