package awssim

import (
	"fmt"
	"strings"
	"time"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type stsAPI struct{ sim *Sim }

func newSTS(s *Sim) *queryService {
	t := &stsAPI{sim: s}
	return &queryService{name: "sts", xmlns: stsNamespace, actions: map[string]queryHandler{
		"AssumeRole":        t.assumeRole,
		"GetCallerIdentity": t.getCallerIdentity,
	}}
}

type xCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type xAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

// assumeRole issues temporary credentials whose access key maps to the
// role's account. The role must be in an account the sim knows; when that
// account's IAM state lists roles, the role must be one of them.
func (t *stsAPI) assumeRole(r *Request, p params) (any, error) {
	roleArn, err := p.require("RoleArn")
	if err != nil {
		return nil, err
	}
	session, err := p.require("RoleSessionName")
	if err != nil {
		return nil, err
	}
	if len(session) < 2 || len(session) > 64 {
		return nil, apiErr("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64", session)
	}
	dur, hasDur, err := p.int("DurationSeconds")
	if err != nil {
		return nil, err
	}
	if !hasDur {
		dur = 3600
	}
	if dur < 900 || dur > 43200 {
		return nil, apiErr("ValidationError", "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", dur)
	}
	parts := strings.SplitN(roleArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return nil, apiErr("ValidationError", "%s is invalid", roleArn)
	}
	account := parts[4]
	roleName := parts[5][strings.LastIndex(parts[5], "/")+1:]
	denied := apiErr("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", r.Principal, roleArn)
	denied.Status = 403
	a, err := t.sim.account(account)
	if err != nil {
		return nil, denied
	}
	roleID := ""
	a.iam.mu.Lock()
	if len(a.iam.Roles) > 0 {
		role := a.iam.Roles[roleName]
		if role != nil {
			roleID = role.ID
		}
	} else {
		roleID = "AROA" + strings.ToUpper(fmt.Sprintf("%016x", hashString(account+roleName)))
	}
	a.iam.mu.Unlock()
	if roleID == "" {
		return nil, denied
	}
	n := t.sim.nextID()
	cred := Credential{
		AccessKeyID:     fmt.Sprintf("ASIASIM%013X", n),
		SecretAccessKey: fmt.Sprintf("simsecret%031x", n),
		SessionToken:    fmt.Sprintf("simsession%054x", n),
		Account:         account,
		Principal:       fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", t.sim.Partition(), account, roleName, session),
		UserID:          roleID + ":" + session,
		Expires:         t.sim.Now().Add(time.Duration(dur) * time.Second),
	}
	if err := t.sim.AddCredential(cred); err != nil {
		return nil, err
	}
	return struct {
		Credentials      xCredentials     `xml:"Credentials"`
		AssumedRoleUser  xAssumedRoleUser `xml:"AssumedRoleUser"`
		PackedPolicySize int              `xml:"PackedPolicySize,omitempty"`
	}{
		Credentials: xCredentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey,
			SessionToken: cred.SessionToken, Expiration: isoTime(cred.Expires)},
		AssumedRoleUser: xAssumedRoleUser{AssumedRoleID: cred.UserID, Arn: cred.Principal},
	}, nil
}

func (t *stsAPI) getCallerIdentity(r *Request, _ params) (any, error) {
	c, _ := t.sim.credential(r.AccessKeyID)
	return struct {
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
		Arn     string `xml:"Arn"`
	}{c.UserID, c.Account, c.Principal}, nil
}

// hashString is FNV-1a, for stable made-up ids.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
