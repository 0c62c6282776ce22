package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/notify/email"
	"github.com/stewardhq/steward/internal/notify/slack"
	"github.com/stewardhq/steward/internal/notify/snstopic"
	"github.com/stewardhq/steward/internal/notify/webhook"
)

// serveNotifiers are the channels steward.yaml's notify section sets up,
// built once per serve and shared by steward:notify and steward:approval.
type serveNotifiers struct {
	// Mux sends by recipient kind; empty when no channel is configured.
	Mux notify.Mux
	// Router finds an owner's recipients, with the fallbacks per class.
	Router *notify.Router
	// Extra are recipients of every notice (the webhook, the SNS topic).
	Extra []notify.Recipient
	// Slack is the Slack client and SlackSecret its app's signing secret,
	// when Slack is configured.
	Slack       *slack.Client
	SlackSecret string
}

var (
	notifiersMu sync.Mutex
	notifiers   = map[*serveEnv]*serveNotifiers{}
)

// notifiersFor builds (once) the notifiers of a serve environment.
func notifiersFor(ctx context.Context, env *serveEnv) (*serveNotifiers, error) {
	notifiersMu.Lock()
	defer notifiersMu.Unlock()
	if n, ok := notifiers[env]; ok {
		return n, nil
	}
	cfg := env.Config
	if cfg == nil {
		cfg = config.Default()
	}
	nc := cfg.Notify
	n := &serveNotifiers{Mux: notify.Mux{}}
	rc := notify.RouterConfig{Owners: nc.Owners, Domain: nc.Domain, AllowedDomains: nc.AllowedDomains, Fallback: map[string][]notify.Recipient{}}
	for class, list := range nc.FallbackRecipients() {
		for _, r := range list {
			rc.Fallback[class] = append(rc.Fallback[class], notify.Recipient{Kind: notify.Kind(r.Kind), Address: r.Address})
		}
	}
	if e := nc.Email; e != nil {
		m, err := email.New(email.Config{Host: e.Host, Port: e.Port, Username: e.Username, Password: e.Password(), From: e.From, ImplicitTLS: !e.UseStartTLS()})
		if err != nil {
			return nil, fmt.Errorf("notify.email: %w", err)
		}
		n.Mux[notify.KindEmail] = m
	}
	if s := nc.Slack; s != nil {
		c, err := slack.New(slack.Config{Token: s.SlackToken(), BaseURL: s.APIURL})
		if err != nil {
			return nil, withHint(fmt.Errorf("notify.slack: %w", err), "set the bot token in notify.slack.token or the variable notify.slack.tokenEnv names")
		}
		n.Mux[notify.KindSlack] = c
		rc.Slack = c
		n.Slack, n.SlackSecret = c, s.Secret()
	}
	if w := nc.Webhook; w != nil {
		n.Mux[notify.KindWebhook] = webhook.New(webhook.Config{Secret: []byte(w.Secret())})
		n.Extra = append(n.Extra, notify.Recipient{Kind: notify.KindWebhook, Address: w.URL})
	}
	if s := nc.SNS; s != nil && env.Cloud != nil {
		p := strings.Split(s.TopicARN, ":")
		if len(p) < 6 {
			return nil, fmt.Errorf("notify.sns.topicArn %q is not an ARN", s.TopicARN)
		}
		client, err := cloudSNSClient(ctx, env, p[4], p[3])
		if err != nil {
			return nil, fmt.Errorf("notify.sns: %w", err)
		}
		pub, err := snstopic.New(snstopic.Config{Client: client})
		if err != nil {
			return nil, fmt.Errorf("notify.sns: %w", err)
		}
		n.Mux[notify.KindSNS] = pub
		n.Extra = append(n.Extra, notify.Recipient{Kind: notify.KindSNS, Address: s.TopicARN})
	}
	n.Router = notify.NewRouter(rc)
	notifiers[env] = n
	return n, nil
}

// classOf returns an account's class in the inventory ("" when unknown).
func (env *serveEnv) classOf(account string) string { return env.Cloud.ClassOf(account) }
