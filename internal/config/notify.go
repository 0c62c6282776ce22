package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// NotifyConfig configures the notifiers and owner routing:
//
//	notify:
//	  owners: {alice: alice@example.com, "arn:aws:iam::111111111111:user/bob": bob@example.com}
//	  domain: example.com            # a bare user name n means n@example.com
//	  allowedDomains: [example.com]  # never mail addresses outside these
//	  slack:
//	    tokenEnv: SLACK_BOT_TOKEN
//	    signingSecretEnv: SLACK_SIGNING_SECRET
//	    channels: {production: "#sec-prod", default: "#security"}
//	  email:
//	    host: smtp.example.com
//	    port: 587
//	    username: steward
//	    passwordEnv: SMTP_PASSWORD
//	    from: "steward <steward@example.com>"
//	  webhook: {url: https://hooks.example.com/steward, secretEnv: WEBHOOK_SECRET}
//	  sns: {topicArn: arn:aws:sns:us-east-1:111111111111:steward}
//	  fallback:                      # unknown owners, per account class
//	    production: [security@example.com, "slack:#sec-prod"]
//	    default: [security@example.com]
//
// Secrets are read from the environment (the *Env fields); token and
// signingSecret may be written in the file for trials.
type NotifyConfig struct {
	Owners         map[string]string `yaml:"owners"`
	Domain         string            `yaml:"domain"`
	AllowedDomains []string          `yaml:"allowedDomains"`
	Slack          *SlackConfig      `yaml:"slack"`
	Email          *EmailConfig      `yaml:"email"`
	Webhook        *WebhookConfig    `yaml:"webhook"`
	SNS            *SNSConfig        `yaml:"sns"`
	// Fallback lists, per account class ("default" for the others), where
	// notices go when the owner is unknown: e-mail addresses, or
	// kind:address with kind email, slack, webhook or sns.
	Fallback map[string][]string `yaml:"fallback"`
}

// SlackConfig configures Slack (a bot token with chat:write and
// users:read.email, and the app's signing secret for its buttons).
type SlackConfig struct {
	Token            string `yaml:"token"`
	TokenEnv         string `yaml:"tokenEnv"`
	SigningSecret    string `yaml:"signingSecret"`
	SigningSecretEnv string `yaml:"signingSecretEnv"`
	// APIURL is the Web API root (default https://slack.com/api/).
	APIURL string `yaml:"apiURL"`
	// Channels are fallback channels per account class ("default" for the
	// others), added to Fallback.
	Channels map[string]string `yaml:"channels"`
}

// EmailConfig configures SMTP. TLS is mandatory: STARTTLS (default) or,
// with starttls: false, TLS from the first byte (port 465).
type EmailConfig struct {
	Host        string `yaml:"host"`
	Port        int    `yaml:"port"`
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"passwordEnv"`
	From        string `yaml:"from"`
	StartTLS    *bool  `yaml:"starttls"`
}

// WebhookConfig posts every notice as JSON to URL, signed with the secret.
type WebhookConfig struct {
	URL       string `yaml:"url"`
	SecretEnv string `yaml:"secretEnv"`
}

// SNSConfig publishes every notice to an SNS topic.
type SNSConfig struct {
	TopicARN string `yaml:"topicArn"`
}

// Recipient is one parsed fallback entry.
type Recipient struct{ Kind, Address string }

var recipientKinds = map[string]bool{"email": true, "slack": true, "webhook": true, "sns": true}

// ParseRecipient reads "kind:address", or a bare e-mail address.
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	if kind, addr, ok := strings.Cut(s, ":"); ok && recipientKinds[kind] {
		if addr == "" {
			return Recipient{}, fmt.Errorf("recipient %q: empty address", s)
		}
		if kind == "email" {
			if _, err := mail.ParseAddress(addr); err != nil {
				return Recipient{}, fmt.Errorf("recipient %q: %v", s, err)
			}
		}
		return Recipient{kind, addr}, nil
	}
	if a, err := mail.ParseAddress(s); err == nil && a.Address == s {
		return Recipient{"email", s}, nil
	}
	return Recipient{}, fmt.Errorf("recipient %q: want an e-mail address or kind:address (email, slack, webhook, sns)", s)
}

// FallbackRecipients returns the fallback per account class, "" for the
// default, with Slack's channels added.
func (n *NotifyConfig) FallbackRecipients() map[string][]Recipient {
	out := map[string][]Recipient{}
	key := func(class string) string {
		if class == "default" {
			return ""
		}
		return class
	}
	for class, list := range n.Fallback {
		for _, s := range list {
			if r, err := ParseRecipient(s); err == nil {
				out[key(class)] = append(out[key(class)], r)
			}
		}
	}
	if n.Slack != nil {
		classes := make([]string, 0, len(n.Slack.Channels))
		for c := range n.Slack.Channels {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, class := range classes {
			out[key(class)] = append(out[key(class)], Recipient{"slack", n.Slack.Channels[class]})
		}
	}
	return out
}

// SlackToken returns the bot token (the file's, else the environment's).
func (s *SlackConfig) SlackToken() string { return valueOrEnv(s.Token, s.TokenEnv) }

// Secret returns the signing secret (the file's, else the environment's).
func (s *SlackConfig) Secret() string { return valueOrEnv(s.SigningSecret, s.SigningSecretEnv) }

// Password returns the SMTP password from the environment.
func (e *EmailConfig) Password() string { return valueOrEnv("", e.PasswordEnv) }

// UseStartTLS says whether to use STARTTLS (default) rather than TLS from
// the first byte.
func (e *EmailConfig) UseStartTLS() bool { return e.StartTLS == nil || *e.StartTLS }

// Secret returns the webhook signing secret from the environment.
func (w *WebhookConfig) Secret() string { return valueOrEnv("", w.SecretEnv) }

func valueOrEnv(v, env string) string {
	if v != "" || env == "" {
		return v
	}
	return os.Getenv(env)
}

func (n *NotifyConfig) applyDefaults() {
	if n.Email != nil && n.Email.Port == 0 {
		n.Email.Port = 587
		if !n.Email.UseStartTLS() {
			n.Email.Port = 465
		}
	}
}

func (n *NotifyConfig) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: notify: "+format, append([]any{ErrInvalid}, args...)...))
	}
	for owner, addr := range n.Owners {
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			bad("owners.%s: %q is not an e-mail address", owner, addr)
		}
	}
	for class, list := range n.Fallback {
		for _, s := range list {
			if _, err := ParseRecipient(s); err != nil {
				bad("fallback.%s: %v", class, err)
			}
		}
	}
	if s := n.Slack; s != nil {
		if s.Token == "" && s.TokenEnv == "" {
			bad("slack: token or tokenEnv is required")
		}
		if s.SigningSecret == "" && s.SigningSecretEnv == "" {
			bad("slack: signingSecret or signingSecretEnv is required (Slack's buttons are checked with it)")
		}
		if s.APIURL != "" {
			if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad("slack.apiURL: %q is not an http(s) URL", s.APIURL)
			}
		}
	}
	if e := n.Email; e != nil {
		if e.Host == "" || e.From == "" {
			bad("email: host and from are required")
		}
		if e.Port < 0 || e.Port > 65535 {
			bad("email.port: %d", e.Port)
		}
		if _, err := mail.ParseAddress(e.From); e.From != "" && err != nil {
			bad("email.from: %q: %v", e.From, err)
		}
		if e.Username != "" && e.PasswordEnv == "" {
			bad("email: username without passwordEnv")
		}
	}
	if w := n.Webhook; w != nil {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("webhook.url: %q is not an http(s) URL", w.URL)
		}
	}
	if s := n.SNS; s != nil && !strings.HasPrefix(s.TopicARN, "arn:") {
		bad("sns.topicArn: %q is not an ARN", s.TopicARN)
	}
	return errors.Join(errs...)
}

// ApprovalsConfig configures approvals:
//
//	approvals:
//	  deadline: 48h          # when no one answers, the default is taken
//	  reminders: {every: 168h, before: 24h}   # weekly, and the day before
//	  batchWindow: 10s       # notices of one run for one owner go as one message
//	  yearExceptionClasses: [production]      # where a one-year exception may be asked
//	  keyEnv: STEWARD_APPROVAL_KEY            # HMAC key of the links (32+ bytes)
//	  keyFile: approval.key  # else this file in the data directory (created)
type ApprovalsConfig struct {
	Deadline             time.Duration   `yaml:"deadline"`
	Reminders            RemindersConfig `yaml:"reminders"`
	BatchWindow          time.Duration   `yaml:"batchWindow"`
	YearExceptionClasses []string        `yaml:"yearExceptionClasses"`
	KeyEnv               string          `yaml:"keyEnv"`
	KeyFile              string          `yaml:"keyFile"`
}

// RemindersConfig says when reminders go before the deadline: every
// Every from the question, and Before the deadline; "off" (a negative
// duration) for none.
type RemindersConfig struct {
	Every  time.Duration `yaml:"every"`
	Before time.Duration `yaml:"before"`
}

// DefaultApprovalDeadline is the talk's 48 hours.
const DefaultApprovalDeadline = 48 * time.Hour

func (a *ApprovalsConfig) applyDefaults() {
	if a.Deadline == 0 {
		a.Deadline = DefaultApprovalDeadline
	}
	if a.Reminders.Every == 0 {
		a.Reminders.Every = 7 * 24 * time.Hour
	}
	if a.Reminders.Before == 0 {
		a.Reminders.Before = 24 * time.Hour
	}
	if a.BatchWindow == 0 {
		a.BatchWindow = 10 * time.Second
	}
	if a.YearExceptionClasses == nil {
		a.YearExceptionClasses = []string{"production"}
	}
	if a.KeyFile == "" {
		a.KeyFile = "approval.key"
	}
}

func (a *ApprovalsConfig) check() error {
	var errs []error
	if a.Deadline < 0 || a.Deadline > 366*24*time.Hour {
		errs = append(errs, fmt.Errorf("%w: approvals.deadline %v: between 1s and a year", ErrInvalid, a.Deadline))
	}
	if a.BatchWindow > time.Hour {
		errs = append(errs, fmt.Errorf("%w: approvals.batchWindow %v: at most an hour", ErrInvalid, a.BatchWindow))
	}
	return errors.Join(errs...)
}
