package awssim

import (
	"sync"
	"time"
)

// IAMState is one account's IAM (global, not per region). Access it only
// through Sim.WithIAM.
type IAMState struct {
	Policies map[string]*Policy // by ARN
	Roles    map[string]*Role   // by name
	Users    map[string]*User   // by name

	mu sync.Mutex
}

func newIAMState() *IAMState {
	return &IAMState{Policies: map[string]*Policy{}, Roles: map[string]*Role{}, Users: map[string]*User{}}
}

// Policy is a customer managed policy with its versions.
type Policy struct {
	Name        string          `yaml:"name"`
	Path        string          `yaml:"path"`
	ID          string          `yaml:"id"`
	ARN         string          `yaml:"arn"`
	Description string          `yaml:"description"`
	CreateDate  time.Time       `yaml:"create_date"`
	UpdateDate  time.Time       `yaml:"update_date"`
	Versions    []PolicyVersion `yaml:"versions"`
	// Document is shorthand for a single default version v1.
	Document string `yaml:"document"`
	Tags     Tags   `yaml:"tags"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID         string    `yaml:"id"` // v1, v2, ...
	Document   string    `yaml:"document"`
	IsDefault  bool      `yaml:"default"`
	CreateDate time.Time `yaml:"create_date"`
}

// Role is an IAM role.
type Role struct {
	Name                     string            `yaml:"name"`
	Path                     string            `yaml:"path"`
	ID                       string            `yaml:"id"`
	ARN                      string            `yaml:"arn"`
	Description              string            `yaml:"description"`
	AssumeRolePolicyDocument string            `yaml:"assume_role_policy"`
	MaxSessionDuration       int               `yaml:"max_session_duration"`
	CreateDate               time.Time         `yaml:"create_date"`
	AttachedPolicies         []string          `yaml:"attached_policies"` // policy ARNs
	InlinePolicies           map[string]string `yaml:"inline_policies"`
	Tags                     Tags              `yaml:"tags"`
}

// User is an IAM user.
type User struct {
	Name             string      `yaml:"name"`
	Path             string      `yaml:"path"`
	ID               string      `yaml:"id"`
	ARN              string      `yaml:"arn"`
	CreateDate       time.Time   `yaml:"create_date"`
	PasswordLastUsed time.Time   `yaml:"password_last_used"`
	AccessKeys       []AccessKey `yaml:"access_keys"`
	Tags             Tags        `yaml:"tags"`
}

// AccessKey is an IAM user's access key. Active keys also authenticate
// against the sim as that user.
type AccessKey struct {
	ID         string    `yaml:"id"`
	Secret     string    `yaml:"secret"`
	Status     string    `yaml:"status"` // Active|Inactive
	CreateDate time.Time `yaml:"create_date"`
}
