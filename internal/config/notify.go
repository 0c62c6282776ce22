package config

// NotifyConfig configures the notifiers (Slack, e-mail, SNS, webhook) and
// owner routing. (Owned by the people-in-the-loop work; to be filled in.)
type NotifyConfig struct{}

func (n *NotifyConfig) applyDefaults() {}

func (n *NotifyConfig) check() error { return nil }

// ApprovalsConfig configures approvals: deadlines, reminders, the link key.
// (Owned by the people-in-the-loop work; to be filled in.)
type ApprovalsConfig struct{}

func (a *ApprovalsConfig) applyDefaults() {}

func (a *ApprovalsConfig) check() error { return nil }
