package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNotifyAndApprovalsSections(t *testing.T) {
	c, err := Parse([]byte(`
notify:
  owners: {alice: alice@example.com}
  domain: example.com
  slack: {tokenEnv: SLACK_TOKEN, signingSecret: s3cret, channels: {production: "#sec-prod"}}
  email: {host: smtp.example.com, username: steward, passwordEnv: SMTP_PASSWORD, from: "steward <steward@example.com>"}
  webhook: {url: https://hooks.example.com/x, secretEnv: HOOK}
  sns: {topicArn: "arn:aws:sns:us-east-1:111111111111:steward"}
  fallback:
    default: [security@example.com]
    production: ["email:prod-sec@example.com", "slack:#prod"]
approvals:
  deadline: 72h
  reminders: {every: 48h}
  keyEnv: KEY
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Approvals.Deadline != 72*time.Hour || c.Approvals.Reminders.Every != 48*time.Hour || c.Approvals.Reminders.Before != 24*time.Hour ||
		c.Approvals.KeyFile != "approval.key" || c.Approvals.YearExceptionClasses[0] != "production" {
		t.Errorf("approvals: %+v", c.Approvals)
	}
	if c.Notify.Email.Port != 587 || !c.Notify.Email.UseStartTLS() || c.Notify.Slack.Secret() != "s3cret" {
		t.Errorf("notify: %+v", c.Notify)
	}
	fb := c.Notify.FallbackRecipients()
	if len(fb[""]) != 1 || len(fb["production"]) != 3 || fb["production"][2] != (Recipient{"slack", "#sec-prod"}) {
		t.Errorf("fallback: %+v", fb)
	}
	d := Default()
	if d.Approvals.Deadline != 48*time.Hour || d.Notify.Slack != nil {
		t.Errorf("defaults: %+v", d.Approvals)
	}
}

func TestNotifyConfigErrors(t *testing.T) {
	cases := map[string]string{
		"notify:\n  owners: {alice: not-an-address}\n":            "owners.alice",
		"notify:\n  slack: {token: x}\n":                          "signingSecret",
		"notify:\n  email: {host: h}\n":                           "host and from",
		"notify:\n  fallback: {default: [\"pager:1\"]}\n":         "fallback.default",
		"notify:\n  webhook: {url: ftp://x}\n":                    "webhook.url",
		"notify:\n  sns: {topicArn: nope}\n":                      "sns.topicArn",
		"notify:\n  emial: {}\n":                                  "emial",
		"approvals:\n  deadline: 9000h\n":                         "approvals.deadline",
		"notify:\n  email: {host: h, from: a@b.c, username: u}\n": "passwordEnv",
	}
	for in, want := range cases {
		_, err := Parse([]byte(in))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", in, err, want)
		}
	}
}
