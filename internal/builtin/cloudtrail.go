package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/stewardhq/steward/internal/cloud"
)

// maxLookupPages bounds one LookupEvents walk (50 events a page).
const maxLookupPages = 20

// trailEvent is one event LookupEvents returned, with its record's
// userIdentity read.
type trailEvent struct {
	Name     string
	Time     time.Time
	Identity Identity
	// IdentityErr is why the record's userIdentity could not be read.
	IdentityErr error
}

// lookupEvents returns the management events CloudTrail holds for the
// resource named name (LookupAttributes ResourceName) since since (zero:
// CloudTrail's 90 days), newest first, keeping those named in names (all
// when names is empty): LookupEvents takes one attribute, so the event
// names are filtered here.
func (t *Tasks) lookupEvents(ctx context.Context, w Where, name string, names []string, since time.Time) ([]trailEvent, error) {
	if t.d.Cloud == nil {
		return nil, fmt.Errorf("look up events of %s: steward has no AWS access configured", w.ARN)
	}
	cl, err := cloud.ClientFor[*cloudtrail.Client](ctx, t.d.Cloud, "cloudtrail", w.Account, w.Region)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail in account %s region %s for %s: %w", w.Account, w.Region, w.ARN, err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String(name)}},
		MaxResults:       aws.Int32(50),
	}
	if !since.IsZero() {
		in.StartTime = aws.Time(since)
	}
	var out []trailEvent
	for page := 0; page < maxLookupPages; page++ {
		res, err := cl.LookupEvents(ctx, in)
		if err != nil {
			return nil, awsError("CloudTrail", "LookupEvents", w, err)
		}
		for _, e := range res.Events {
			n := aws.ToString(e.EventName)
			if len(want) > 0 && !want[n] {
				continue
			}
			te := trailEvent{Name: n, Time: aws.ToTime(e.EventTime).UTC()}
			if e.CloudTrailEvent != nil {
				te.Identity, te.IdentityErr = ParseRecordIdentity([]byte(*e.CloudTrailEvent))
			}
			out = append(out, te)
		}
		if res.NextToken == nil || *res.NextToken == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	return out, nil
}

// Identity is a CloudTrail record's userIdentity: who made a call.
type Identity struct {
	// Type is Root, IAMUser, AssumedRole, FederatedUser, AWSAccount,
	// AWSService, IdentityCenterUser, Unknown, ...
	Type        string `json:"type"`
	ARN         string `json:"arn,omitempty"`
	Account     string `json:"accountId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// InvokedBy is the AWS service that made the call for the principal
	// (autoscaling.amazonaws.com), or "AWS Internal".
	InvokedBy string `json:"invokedBy,omitempty"`
	// SessionName is an assumed role's or federated user's session name:
	// the last part of the ARN.
	SessionName string `json:"-"`
	// IssuerARN is the session issuer (the role) of an assumed role.
	IssuerARN string `json:"-"`
}

// ParseRecordIdentity reads the userIdentity of a CloudTrail record (the
// record itself, as LookupEvents' CloudTrailEvent holds it, or an
// EventBridge event whose detail is one).
func ParseRecordIdentity(record []byte) (Identity, error) {
	var rec struct {
		UserIdentity json.RawMessage `json:"userIdentity"`
		Detail       *struct {
			UserIdentity json.RawMessage `json:"userIdentity"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(record, &rec); err != nil {
		return Identity{}, fmt.Errorf("cloudtrail record: %w", err)
	}
	raw := rec.UserIdentity
	if len(raw) == 0 && rec.Detail != nil {
		raw = rec.Detail.UserIdentity
	}
	if len(raw) == 0 || string(raw) == "null" {
		return Identity{}, fmt.Errorf("cloudtrail record has no userIdentity")
	}
	return ParseIdentity(raw)
}

// ParseIdentity reads a userIdentity object.
func ParseIdentity(raw []byte) (Identity, error) {
	var u struct {
		Identity
		SessionContext *struct {
			SessionIssuer *struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return Identity{}, fmt.Errorf("userIdentity: %w", err)
	}
	id := u.Identity
	if id.Type == "" {
		return Identity{}, fmt.Errorf("userIdentity has no type")
	}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		id.IssuerARN = u.SessionContext.SessionIssuer.ARN
	}
	switch id.Type {
	case "AssumedRole", "FederatedUser":
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION,
		// arn:aws:sts::ACCOUNT:federated-user/NAME
		if _, res, ok := cutARNResource(id.ARN); ok {
			parts := strings.Split(res, "/")
			if (parts[0] == "assumed-role" && len(parts) >= 3) || (parts[0] == "federated-user" && len(parts) >= 2) {
				id.SessionName = parts[len(parts)-1]
			}
		}
		if id.SessionName == "" {
			if _, s, ok := strings.Cut(id.PrincipalID, ":"); ok {
				id.SessionName = s
			}
		}
	}
	return id, nil
}

// cutARNResource splits an ARN into its prefix (through the account) and
// its resource part.
func cutARNResource(arn string) (string, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", false
	}
	return strings.Join(parts[:5], ":"), parts[5], parts[5] != ""
}

// Owner is whom steward names as the owner of what this identity
// created, and whether it is a person at all. A session name that is an
// e-mail address (SSO and federated sign-ins) names the person; an IAM
// user or federated user named by an e-mail address likewise; otherwise
// the principal's ARN (an IAM user, the account root, an assumed-role
// session). AWS services (AWSService, or a session of a service-linked
// role) are not a person: ok is false and owner says which service.
func (id Identity) Owner() (owner string, ok bool) {
	switch id.Type {
	case "AWSService":
		return id.InvokedBy, false
	case "AssumedRole":
		if strings.Contains(id.IssuerARN, ":role/aws-service-role/") {
			return id.InvokedBy, false
		}
		if looksLikeEmail(id.SessionName) {
			return strings.ToLower(id.SessionName), true
		}
	case "FederatedUser":
		if looksLikeEmail(id.SessionName) {
			return strings.ToLower(id.SessionName), true
		}
	case "IAMUser":
		if looksLikeEmail(id.UserName) {
			return strings.ToLower(id.UserName), true
		}
	case "IdentityCenterUser":
		if looksLikeEmail(id.UserName) {
			return strings.ToLower(id.UserName), true
		}
	}
	if id.ARN != "" {
		return id.ARN, true
	}
	if id.Type == "Root" && id.Account != "" {
		return "arn:aws:iam::" + id.Account + ":root", true
	}
	if id.Type == "IAMUser" && id.Account != "" && id.UserName != "" {
		return "arn:aws:iam::" + id.Account + ":user/" + id.UserName, true
	}
	if id.PrincipalID != "" && id.Type != "Unknown" {
		return id.PrincipalID, true
	}
	return "", false
}

// looksLikeEmail reports whether s is local@domain.tld.
func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>,;/") {
		return false
	}
	dom := s[at+1:]
	dot := strings.LastIndexByte(dom, '.')
	return dot > 0 && dot < len(dom)-1
}
