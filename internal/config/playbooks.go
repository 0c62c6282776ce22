package config

// PlaybooksConfig configures the playbooks. (Owned by the catalogue; to be
// filled in: stages per account class, schedules, blast radius.)
type PlaybooksConfig struct{}

func (p *PlaybooksConfig) applyDefaults() {}

func (p *PlaybooksConfig) check() error { return nil }
