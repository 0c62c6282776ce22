// Package snstopic publishes notices to an SNS topic (sns:Publish through
// aws-sdk-go-v2), for teams that fan notices out to e-mail lists, chat or
// ticket systems through SNS subscriptions.
package snstopic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stewardhq/steward/internal/notify"
)

// PublishAPI is the part of *sns.Client a Publisher uses.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ PublishAPI = (*sns.Client)(nil)

// Format is how a message body is written.
type Format string

// Formats.
const (
	FormatText Format = "text" // the plain-text rendering, links included (default)
	FormatJSON Format = "json" // {"subject", "text", "notices"} for machine subscribers
)

// Config configures a Publisher.
type Config struct {
	Client PublishAPI // required, made for the topic's account and region
	Format Format
	Retry  notify.RetryPolicy
}

// Publisher is the SNS notify.Notifier; the recipient's address is the
// topic ARN.
type Publisher struct{ cfg Config }

var _ notify.Notifier = (*Publisher)(nil)

// New checks cfg and returns a Publisher.
func New(cfg Config) (*Publisher, error) {
	if cfg.Client == nil {
		return nil, errors.New("snstopic: Config.Client is required")
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatText
	case FormatText, FormatJSON:
	default:
		return nil, fmt.Errorf("snstopic: unknown format %q", cfg.Format)
	}
	return &Publisher{cfg: cfg}, nil
}

// maxMessage is SNS's limit on a message (256 KiB), less room for a note.
const maxMessage = 256*1024 - 512

// Subject makes s a valid SNS subject: ASCII, no control characters, at
// most 100 characters.
func Subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 100 {
			break
		}
		if r < 0x20 || r > 0x7e {
			r = ' '
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		out = "steward notice"
	}
	return out
}

// Notify publishes one message carrying notices to the topic to.Address.
func (p *Publisher) Notify(ctx context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	if to.Kind != notify.KindSNS || !strings.HasPrefix(to.Address, "arn:") {
		return notify.Receipt{}, fmt.Errorf("snstopic: cannot send to %s", to)
	}
	if len(notices) == 0 {
		return notify.Receipt{}, notify.ErrNoNotices
	}
	subject := notify.Subject(notices)
	var body string
	if p.cfg.Format == FormatJSON {
		b, err := json.Marshal(map[string]any{"subject": subject, "text": notify.RenderText(notices), "notices": notices})
		if err != nil {
			return notify.Receipt{}, fmt.Errorf("snstopic: encode: %w", err)
		}
		body = string(b)
		if len(body) > maxMessage {
			b, _ = json.Marshal(map[string]any{"subject": subject, "truncated": true, "text": truncate(notify.RenderText(notices))})
			body = string(b)
		}
	} else {
		body = notify.RenderText(notices)
		if len(body) > maxMessage {
			body = truncate(body)
		}
	}
	var ids []string
	playbook := ""
	for _, n := range notices {
		if n.ApprovalID != "" {
			ids = append(ids, n.ApprovalID)
		}
		if playbook == "" {
			playbook = n.Playbook
		}
	}
	in := &sns.PublishInput{TopicArn: aws.String(to.Address), Subject: aws.String(Subject(subject)), Message: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{}}
	if playbook != "" {
		in.MessageAttributes["steward.playbook"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(notify.Clean(playbook, 200))}
	}
	if len(ids) > 0 {
		in.MessageAttributes["steward.approvals"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(notify.Clean(strings.Join(ids, ","), 1000))}
	}
	var out *sns.PublishOutput
	err := notify.Retry(ctx, p.cfg.Retry, func(ctx context.Context) error {
		var err error
		out, err = p.cfg.Client.Publish(ctx, in)
		return classify(err)
	})
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("snstopic publish to %s: %w", to.Address, err)
	}
	return notify.Receipt{To: to, ID: aws.ToString(out.MessageId), At: time.Now().UTC(), Notices: notices}, nil
}

func truncate(s string) string {
	cut := maxMessage
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "\n[message truncated: too long for SNS]\n"
}

// classify marks throttling, server errors and connection failures as
// transient; everything else (NotFound, AuthorizationError,
// InvalidParameter) is permanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "ThrottledException", "InternalError", "InternalFailure",
			"ServiceUnavailable", "KMSThrottling", "RequestLimitExceeded":
			return notify.Transient(err, 0)
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429) {
		return notify.Transient(err, 0)
	}
	if ae != nil {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return notify.Transient(err, 0)
	}
	return err
}
