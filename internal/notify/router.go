package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// OwnerRef is an owner string taken apart: the owner tag's value or the
// CloudTrail creator (userIdentity.arn or principalId).
type OwnerRef struct {
	// Kind is "email", "user" (IAM user), "assumed-role" (an STS session),
	// "federated-user", "root", "service" (an AWS service principal),
	// "role" (an IAM role ARN without a session), or "name" (a bare name).
	Kind    string
	Account string // from an ARN
	Role    string // for assumed-role
	Name    string // user, session or bare name
	Email   string // when Name is an e-mail address (or Kind is email)
}

// ErrNoOwner means the owner string is empty or could not be read.
var ErrNoOwner = errors.New("notify: no owner")

// ParseOwner reads an owner: an e-mail address, an IAM or STS ARN
// (arn:aws:iam::111111111111:user/path/alice,
// arn:aws:sts::111111111111:assumed-role/Role/alice@example.com), a
// principalId ("AROA...:alice@example.com"), a service ("ec2.amazonaws.com")
// or a bare name.
func ParseOwner(s string) (OwnerRef, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2048 {
		return OwnerRef{}, ErrNoOwner
	}
	if strings.HasPrefix(s, "arn:") {
		return parseARN(s)
	}
	if strings.HasSuffix(s, ".amazonaws.com") && !strings.Contains(s, "@") {
		return OwnerRef{Kind: "service", Name: s}, nil
	}
	if i := strings.IndexByte(s, ':'); i > 0 && isPrincipalID(s[:i]) {
		// principalId of a session: ROLEID:SESSION
		return named("assumed-role", s[i+1:]), nil
	}
	if e := emailOf(s); e != "" {
		return OwnerRef{Kind: "email", Name: s, Email: e}, nil
	}
	return named("name", s), nil
}

func named(kind, name string) OwnerRef {
	return OwnerRef{Kind: kind, Name: name, Email: emailOf(name)}
}

func isPrincipalID(s string) bool {
	if len(s) < 4 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// emailOf returns s lower-cased when it is a plain e-mail address.
func emailOf(s string) string {
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " <>\"") {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return ""
	}
	return strings.ToLower(s)
}

func parseARN(s string) (OwnerRef, error) {
	// arn:partition:service:region:account:resource
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 {
		return OwnerRef{}, fmt.Errorf("owner %q: %w", s, ErrNoOwner)
	}
	svc, acct, res := p[2], p[4], p[5]
	segs := strings.Split(res, "/")
	last := segs[len(segs)-1]
	switch {
	case res == "root":
		return OwnerRef{Kind: "root", Account: acct, Name: "root"}, nil
	case svc == "sts" && segs[0] == "assumed-role" && len(segs) >= 3:
		r := named("assumed-role", last)
		r.Account, r.Role = acct, segs[1]
		return r, nil
	case svc == "sts" && segs[0] == "assumed-role" && len(segs) == 2:
		return OwnerRef{Kind: "role", Account: acct, Role: segs[1]}, nil
	case svc == "sts" && segs[0] == "federated-user" && len(segs) >= 2:
		r := named("federated-user", last)
		r.Account = acct
		return r, nil
	case svc == "iam" && segs[0] == "user" && len(segs) >= 2:
		r := named("user", last)
		r.Account = acct
		return r, nil
	case svc == "iam" && segs[0] == "role" && len(segs) >= 2:
		return OwnerRef{Kind: "role", Account: acct, Role: last}, nil
	}
	return OwnerRef{}, fmt.Errorf("owner %q: not a person's ARN: %w", s, ErrNoOwner)
}

// SlackDirectory finds a Slack user by e-mail (Slack's users.lookupByEmail);
// notify/slack's Client implements it.
type SlackDirectory interface {
	// LookupByEmail returns the Slack user id for email, or an error
	// wrapping ErrNoSuchUser.
	LookupByEmail(ctx context.Context, email string) (userID string, err error)
}

// ErrNoSuchUser means a directory has no user with that e-mail address.
var ErrNoSuchUser = errors.New("notify: no such user")

// RouterConfig configures a Router.
type RouterConfig struct {
	// Owners maps known owners to e-mail addresses. Keys are compared
	// case-insensitively and may be the raw owner (an ARN, an owner tag
	// value), an IAM user or session name, or an e-mail address (to send
	// one person's mail elsewhere).
	Owners map[string]string
	// Domain, if set, turns a bare name, an IAM user name or a federated
	// user name ("alice") into alice@Domain. Session names are used only
	// when they are e-mail addresses (SSO sessions are).
	Domain string
	// AllowedDomains, if set, are the only e-mail domains notices go to:
	// an owner tag is written by whoever made the resource, so an address
	// outside the company is treated as an unknown owner.
	AllowedDomains []string
	// Slack, if set, finds each owner's Slack user by e-mail.
	Slack SlackDirectory
	// Fallback is where notices for unknown owners go, per account class;
	// the "" entry is the default for every class.
	Fallback map[string][]Recipient
}

// Router maps owners to people: an e-mail address and a Slack user.
type Router struct{ cfg RouterConfig }

// NewRouter returns a Router for cfg.
func NewRouter(cfg RouterConfig) *Router {
	owners := make(map[string]string, len(cfg.Owners))
	for k, v := range cfg.Owners {
		owners[strings.ToLower(strings.TrimSpace(k))] = v
	}
	cfg.Owners = owners
	cfg.Domain = strings.ToLower(strings.TrimPrefix(cfg.Domain, "@"))
	return &Router{cfg: cfg}
}

// Route is where one owner's notices go.
type Route struct {
	Owner    Owner
	To       []Recipient
	Fallback bool   // the owner was not found; To is the fallback
	Note     string // why, for the notice
}

// Route finds the owner's e-mail address and Slack user. An unknown owner
// (or one whose address is outside AllowedDomains) is routed to the
// fallback for accountClass with a note; so is a failed Slack lookup
// when no e-mail address is known. It never fails: routing problems become
// notes, so a notice is never lost.
func (r *Router) Route(ctx context.Context, owner, accountClass string) Route {
	rt := Route{Owner: Owner{Raw: owner}}
	email, why := r.email(owner)
	if email != "" && !r.allowed(email) {
		email, why = "", fmt.Sprintf("owner address %q is outside the allowed domains", email)
	}
	if email == "" {
		rt.Fallback = true
		rt.Note = fmt.Sprintf("Unknown owner %q (%s): please find the owner and forward this.", owner, why)
		if owner == "" {
			rt.Note = "No owner recorded for these resources: please find the owner and forward this."
		}
		rt.To = r.fallback(accountClass)
		return rt
	}
	rt.Owner.Email = email
	rt.Owner.Name = strings.SplitN(email, "@", 2)[0]
	rt.To = append(rt.To, Recipient{Kind: KindEmail, Address: email})
	if r.cfg.Slack != nil {
		id, err := r.cfg.Slack.LookupByEmail(ctx, email)
		switch {
		case err == nil && id != "":
			rt.Owner.SlackUser = id
			rt.To = append(rt.To, Recipient{Kind: KindSlack, Address: id})
		case errors.Is(err, ErrNoSuchUser):
			// e-mail only
		case err != nil:
			rt.Note = "Slack lookup failed; sent by e-mail only."
		}
	}
	return rt
}

// Address routes n's owner (n.Owner.Raw, else its first resource's owner)
// and sets n.Owner, n.To and, for fallbacks, n.Note.
func (r *Router) Address(ctx context.Context, n *Notice) {
	raw := n.Owner.Raw
	if raw == "" {
		for _, res := range n.Resources {
			if res.Owner != "" {
				raw = res.Owner
				break
			}
		}
	}
	rt := r.Route(ctx, raw, n.AccountClass)
	n.Owner = rt.Owner
	n.To = rt.To
	if rt.Note != "" {
		if n.Note != "" {
			n.Note += " "
		}
		n.Note += rt.Note
	}
}

func (r *Router) email(owner string) (string, string) {
	if e, ok := r.cfg.Owners[strings.ToLower(strings.TrimSpace(owner))]; ok {
		return strings.ToLower(e), ""
	}
	ref, err := ParseOwner(owner)
	if err != nil {
		return "", "not a person"
	}
	if ref.Name != "" {
		if e, ok := r.cfg.Owners[strings.ToLower(ref.Name)]; ok {
			return strings.ToLower(e), ""
		}
	}
	if ref.Email != "" {
		return ref.Email, ""
	}
	switch ref.Kind {
	case "user", "federated-user", "name":
		if r.cfg.Domain != "" && isLocalPart(ref.Name) {
			return strings.ToLower(ref.Name) + "@" + r.cfg.Domain, ""
		}
		return "", "no e-mail address known for " + ref.Kind + " " + ref.Name
	case "assumed-role":
		return "", "session " + ref.Name + " of role " + ref.Role + " is not a person's address"
	}
	return "", ref.Kind + " is not a person"
}

func isLocalPart(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return true
}

func (r *Router) allowed(email string) bool {
	if len(r.cfg.AllowedDomains) == 0 {
		return true
	}
	dom := email[strings.LastIndexByte(email, '@')+1:]
	for _, d := range r.cfg.AllowedDomains {
		d = strings.ToLower(strings.TrimPrefix(d, "@"))
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}

func (r *Router) fallback(class string) []Recipient {
	if to, ok := r.cfg.Fallback[class]; ok && len(to) > 0 {
		return append([]Recipient(nil), to...)
	}
	return append([]Recipient(nil), r.cfg.Fallback[""]...)
}
