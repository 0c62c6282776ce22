package awssim

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// iamAPI serves IAM (awsquery protocol). IAM is global: every region
// signed for reaches the same per-account state.
type iamAPI struct{ sim *Sim }

func newIAM(s *Sim) *queryService {
	a := &iamAPI{sim: s}
	h := map[string]func(*IAMState, *Request, params) (any, error){
		"CreatePolicy":             a.createPolicy,
		"GetPolicy":                a.getPolicy,
		"ListPolicies":             a.listPolicies,
		"GetPolicyVersion":         a.getPolicyVersion,
		"ListPolicyVersions":       a.listPolicyVersions,
		"CreatePolicyVersion":      a.createPolicyVersion,
		"SetDefaultPolicyVersion":  a.setDefaultPolicyVersion,
		"DeletePolicyVersion":      a.deletePolicyVersion,
		"DeletePolicy":             a.deletePolicy,
		"TagPolicy":                a.tagPolicy,
		"ListPolicyTags":           a.listPolicyTags,
		"ListRoles":                a.listRoles,
		"GetRole":                  a.getRole,
		"CreateRole":               a.createRole,
		"AttachRolePolicy":         a.attachRolePolicy,
		"DetachRolePolicy":         a.detachRolePolicy,
		"ListAttachedRolePolicies": a.listAttachedRolePolicies,
		"PutRolePolicy":            a.putRolePolicy,
		"TagRole":                  a.tagRole,
		"ListRoleTags":             a.listRoleTags,
		"ListUsers":                a.listUsers,
		"ListAccessKeys":           a.listAccessKeys,
		"UpdateAccessKey":          a.updateAccessKey,
		"TagUser":                  a.tagUser,
		"ListUserTags":             a.listUserTags,
		"ListAccountAliases":       a.listAccountAliases,
	}
	actions := map[string]queryHandler{}
	for name, fn := range h {
		fn := fn
		actions[name] = func(r *Request, p params) (any, error) {
			acct, err := s.account(r.Account)
			if err != nil {
				return nil, err
			}
			acct.iam.mu.Lock()
			defer acct.iam.mu.Unlock()
			return fn(acct.iam, r, p)
		}
	}
	return &queryService{name: "iam", xmlns: iamNamespace, actions: actions}
}

// members is an awsquery list: <name><member>..</member>..</name>, written even when empty.
type members[T any] []T

func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range m {
		if err := e.EncodeElement(m[i], xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type xqTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func xqTags(ts Tags) members[xqTag] {
	out := members[xqTag]{}
	for _, t := range ts {
		out = append(out, xqTag(t))
	}
	return out
}

func noSuchEntity(format string, args ...any) *APIError {
	e := apiErr("NoSuchEntity", format, args...)
	e.Status = http.StatusNotFound
	return e
}

func conflict(code, format string, args ...any) *APIError {
	e := apiErr(code, format, args...)
	e.Status = http.StatusConflict
	return e
}

// iamEncode percent-encodes a policy document the way IAM returns it.
func iamEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func checkPolicyDocument(doc string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return apiErr("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	if _, ok := v["Statement"]; !ok {
		return apiErr("MalformedPolicyDocument", "Policy document must contain a Statement.")
	}
	return nil
}

// iamPage pages sorted keys with Marker/MaxItems.
func iamPage(p params, keys []string) (page []string, marker string, truncated bool, err error) {
	maxItems := 100
	if n, ok, err := p.int("MaxItems"); err != nil {
		return nil, "", false, err
	} else if ok {
		if n < 1 || n > 1000 {
			return nil, "", false, apiErr("ValidationError", "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", n)
		}
		maxItems = n
	}
	start := 0
	if m := p.get("Marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		if derr != nil || !strings.HasPrefix(string(raw), "m:") {
			return nil, "", false, apiErr("ValidationError", "Invalid Marker.")
		}
		after := string(raw[2:])
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	end := start + maxItems
	if end >= len(keys) {
		return keys[start:], "", false, nil
	}
	page = keys[start:end]
	return page, base64.RawURLEncoding.EncodeToString([]byte("m:" + page[len(page)-1])), true, nil
}

type xPolicy struct {
	PolicyName                    string          `xml:"PolicyName"`
	PolicyID                      string          `xml:"PolicyId"`
	Arn                           string          `xml:"Arn"`
	Path                          string          `xml:"Path"`
	DefaultVersionID              string          `xml:"DefaultVersionId"`
	AttachmentCount               int             `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool            `xml:"IsAttachable"`
	Description                   string          `xml:"Description,omitempty"`
	CreateDate                    string          `xml:"CreateDate"`
	UpdateDate                    string          `xml:"UpdateDate"`
	Tags                          *members[xqTag] `xml:"Tags,omitempty"`
}

func (st *IAMState) attachmentCount(arn string) int {
	n := 0
	for _, r := range st.Roles {
		for _, a := range r.AttachedPolicies {
			if a == arn {
				n++
			}
		}
	}
	return n
}

func (pol *Policy) defaultVersion() *PolicyVersion {
	for i := range pol.Versions {
		if pol.Versions[i].IsDefault {
			return &pol.Versions[i]
		}
	}
	return nil
}

func (st *IAMState) policyView(pol *Policy, withTags bool) xPolicy {
	x := xPolicy{PolicyName: pol.Name, PolicyID: pol.ID, Arn: pol.ARN, Path: pol.Path,
		AttachmentCount: st.attachmentCount(pol.ARN), IsAttachable: true, Description: pol.Description,
		CreateDate: isoTime(pol.CreateDate), UpdateDate: isoTime(pol.UpdateDate)}
	if dv := pol.defaultVersion(); dv != nil {
		x.DefaultVersionID = dv.ID
	}
	if withTags && len(pol.Tags) > 0 {
		t := xqTags(pol.Tags)
		x.Tags = &t
	}
	return x
}

func (a *iamAPI) policy(st *IAMState, p params) (*Policy, error) {
	arn, err := p.require("PolicyArn")
	if err != nil {
		return nil, err
	}
	pol := st.Policies[arn]
	if pol == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return pol, nil
}

func readQueryTags(p params) ([]Tag, error) {
	tags := readTags(p.sub("Tags"), "member")
	for _, t := range tags {
		if t.Key == "" {
			return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null")
		}
	}
	return tags, nil
}

func (a *iamAPI) createPolicy(st *IAMState, r *Request, p params) (any, error) {
	name, err := p.require("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := p.require("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	tags, err := readQueryTags(p)
	if err != nil {
		return nil, err
	}
	path := orDefault(p.get("Path"), "/")
	arn := fmt.Sprintf("arn:%s:iam::%s:policy%s%s", a.sim.Partition(), r.Account, path, name)
	for _, pol := range st.Policies {
		if pol.Name == name {
			return nil, conflict("EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
	}
	now := a.sim.Now()
	pol := &Policy{Name: name, Path: path, ID: iamID("ANPA", r.Account+name), ARN: arn, Description: p.get("Description"),
		CreateDate: now, UpdateDate: now, Versions: []PolicyVersion{{ID: "v1", Document: doc, IsDefault: true, CreateDate: now}},
		Tags: Tags(nil).set(tags)}
	st.Policies[arn] = pol
	return struct {
		Policy xPolicy `xml:"Policy"`
	}{st.policyView(pol, true)}, nil
}

func (a *iamAPI) getPolicy(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy xPolicy `xml:"Policy"`
	}{st.policyView(pol, true)}, nil
}

func (a *iamAPI) listPolicies(st *IAMState, _ *Request, p params) (any, error) {
	scope := orDefault(p.get("Scope"), "All")
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	prefix := orDefault(p.get("PathPrefix"), "/")
	onlyAttached := p.bool("OnlyAttached")
	byKey := map[string]*Policy{}
	var keys []string
	if scope != "AWS" {
		for _, pol := range st.Policies {
			if !strings.HasPrefix(pol.Path, prefix) || (onlyAttached && st.attachmentCount(pol.ARN) == 0) {
				continue
			}
			k := pol.Name + "\x00" + pol.ARN
			byKey[k] = pol
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies    members[xPolicy] `xml:"Policies"`
		IsTruncated bool             `xml:"IsTruncated"`
		Marker      string           `xml:"Marker,omitempty"`
	}{Policies: members[xPolicy]{}, IsTruncated: truncated, Marker: marker}
	for _, k := range page {
		out.Policies = append(out.Policies, st.policyView(byKey[k], false))
	}
	return out, nil
}

type xPolicyVersion struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

func (v PolicyVersion) view(withDoc bool) xPolicyVersion {
	x := xPolicyVersion{VersionID: v.ID, IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.CreateDate)}
	if withDoc {
		x.Document = iamEncode(v.Document)
	}
	return x
}

func (pol *Policy) version(id string) *PolicyVersion {
	for i := range pol.Versions {
		if pol.Versions[i].ID == id {
			return &pol.Versions[i]
		}
	}
	return nil
}

func (a *iamAPI) getPolicyVersion(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	vid, err := p.require("VersionId")
	if err != nil {
		return nil, err
	}
	v := pol.version(vid)
	if v == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", pol.ARN, vid)
	}
	return struct {
		PolicyVersion xPolicyVersion `xml:"PolicyVersion"`
	}{v.view(true)}, nil
}

func (a *iamAPI) listPolicyVersions(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	// Newest first, as IAM lists them.
	keys := make([]string, 0, len(pol.Versions))
	byKey := map[string]PolicyVersion{}
	for _, v := range pol.Versions {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		k := fmt.Sprintf("%010d", 1<<30-n)
		keys = append(keys, k)
		byKey[k] = v
	}
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Versions    members[xPolicyVersion] `xml:"Versions"`
		IsTruncated bool                    `xml:"IsTruncated"`
		Marker      string                  `xml:"Marker,omitempty"`
	}{Versions: members[xPolicyVersion]{}, IsTruncated: truncated, Marker: marker}
	for _, k := range page {
		out.Versions = append(out.Versions, byKey[k].view(false))
	}
	return out, nil
}

func (a *iamAPI) createPolicyVersion(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	doc, err := p.require("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	if len(pol.Versions) >= 5 {
		return nil, conflict("LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	}
	maxN := 0
	for _, v := range pol.Versions {
		if n, err := strconv.Atoi(strings.TrimPrefix(v.ID, "v")); err == nil && n > maxN {
			maxN = n
		}
	}
	now := a.sim.Now()
	v := PolicyVersion{ID: fmt.Sprintf("v%d", maxN+1), Document: doc, CreateDate: now}
	if p.bool("SetAsDefault") {
		for i := range pol.Versions {
			pol.Versions[i].IsDefault = false
		}
		v.IsDefault = true
	}
	pol.Versions = append(pol.Versions, v)
	pol.UpdateDate = now
	return struct {
		PolicyVersion xPolicyVersion `xml:"PolicyVersion"`
	}{v.view(false)}, nil
}

func (a *iamAPI) setDefaultPolicyVersion(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	vid, err := p.require("VersionId")
	if err != nil {
		return nil, err
	}
	if pol.version(vid) == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", pol.ARN, vid)
	}
	for i := range pol.Versions {
		pol.Versions[i].IsDefault = pol.Versions[i].ID == vid
	}
	pol.UpdateDate = a.sim.Now()
	return nil, nil
}

func (a *iamAPI) deletePolicyVersion(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	vid, err := p.require("VersionId")
	if err != nil {
		return nil, err
	}
	v := pol.version(vid)
	if v == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", pol.ARN, vid)
	}
	if v.IsDefault {
		return nil, conflict("DeleteConflict", "Cannot delete the default version of a policy.")
	}
	kept := pol.Versions[:0]
	for _, x := range pol.Versions {
		if x.ID != vid {
			kept = append(kept, x)
		}
	}
	pol.Versions = kept
	return nil, nil
}

func (a *iamAPI) deletePolicy(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	if st.attachmentCount(pol.ARN) > 0 {
		return nil, conflict("DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	if len(pol.Versions) > 1 {
		return nil, conflict("DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(st.Policies, pol.ARN)
	return nil, nil
}

// tagList renders a ListXTags result.
func tagList(ts Tags) any {
	return struct {
		Tags        members[xqTag] `xml:"Tags"`
		IsTruncated bool           `xml:"IsTruncated"`
	}{Tags: xqTags(ts)}
}

func addTags(target *Tags, p params) error {
	tags, err := readQueryTags(p)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return apiErr("ValidationError", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	next := target.clone().set(tags)
	if len(next) > 50 {
		return conflict("LimitExceeded", "The number of tags has reached the maximum limit.")
	}
	*target = next
	return nil
}

func (a *iamAPI) tagPolicy(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	return nil, addTags(&pol.Tags, p)
}

func (a *iamAPI) listPolicyTags(st *IAMState, _ *Request, p params) (any, error) {
	pol, err := a.policy(st, p)
	if err != nil {
		return nil, err
	}
	return tagList(pol.Tags), nil
}

type xRoleLastUsed struct{}

type xRole struct {
	Path                     string          `xml:"Path"`
	RoleName                 string          `xml:"RoleName"`
	RoleID                   string          `xml:"RoleId"`
	Arn                      string          `xml:"Arn"`
	CreateDate               string          `xml:"CreateDate"`
	AssumeRolePolicyDocument string          `xml:"AssumeRolePolicyDocument"`
	Description              string          `xml:"Description,omitempty"`
	MaxSessionDuration       int             `xml:"MaxSessionDuration"`
	Tags                     *members[xqTag] `xml:"Tags,omitempty"`
	RoleLastUsed             *xRoleLastUsed  `xml:"RoleLastUsed,omitempty"`
}

func (role *Role) view(full bool) xRole {
	x := xRole{Path: role.Path, RoleName: role.Name, RoleID: role.ID, Arn: role.ARN, CreateDate: isoTime(role.CreateDate),
		AssumeRolePolicyDocument: iamEncode(role.AssumeRolePolicyDocument), Description: role.Description,
		MaxSessionDuration: role.MaxSessionDuration}
	if full {
		if len(role.Tags) > 0 {
			t := xqTags(role.Tags)
			x.Tags = &t
		}
		x.RoleLastUsed = &xRoleLastUsed{}
	}
	return x
}

func (a *iamAPI) role(st *IAMState, p params) (*Role, error) {
	name, err := p.require("RoleName")
	if err != nil {
		return nil, err
	}
	role := st.Roles[name]
	if role == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return role, nil
}

func (a *iamAPI) listRoles(st *IAMState, _ *Request, p params) (any, error) {
	prefix := orDefault(p.get("PathPrefix"), "/")
	var keys []string
	for name, role := range st.Roles {
		if strings.HasPrefix(role.Path, prefix) {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       members[xRole] `xml:"Roles"`
		IsTruncated bool           `xml:"IsTruncated"`
		Marker      string         `xml:"Marker,omitempty"`
	}{Roles: members[xRole]{}, IsTruncated: truncated, Marker: marker}
	for _, k := range page {
		out.Roles = append(out.Roles, st.Roles[k].view(false))
	}
	return out, nil
}

func (a *iamAPI) getRole(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	return struct {
		Role xRole `xml:"Role"`
	}{role.view(true)}, nil
}

func (a *iamAPI) createRole(st *IAMState, r *Request, p params) (any, error) {
	name, err := p.require("RoleName")
	if err != nil {
		return nil, err
	}
	doc, err := p.require("AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	if st.Roles[name] != nil {
		return nil, conflict("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	tags, err := readQueryTags(p)
	if err != nil {
		return nil, err
	}
	maxDur, ok, err := p.int("MaxSessionDuration")
	if err != nil {
		return nil, err
	}
	if !ok {
		maxDur = 3600
	}
	path := orDefault(p.get("Path"), "/")
	role := &Role{Name: name, Path: path, ID: iamID("AROA", r.Account+name),
		ARN:         fmt.Sprintf("arn:%s:iam::%s:role%s%s", a.sim.Partition(), r.Account, path, name),
		Description: p.get("Description"), AssumeRolePolicyDocument: doc, MaxSessionDuration: maxDur,
		CreateDate: a.sim.Now(), InlinePolicies: map[string]string{}, Tags: Tags(nil).set(tags)}
	st.Roles[name] = role
	x := role.view(true)
	x.RoleLastUsed = nil
	return struct {
		Role xRole `xml:"Role"`
	}{x}, nil
}

func (a *iamAPI) attachRolePolicy(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	arn, err := p.require("PolicyArn")
	if err != nil {
		return nil, err
	}
	awsManaged := strings.HasPrefix(arn, "arn:"+a.sim.Partition()+":iam::aws:policy/")
	if st.Policies[arn] == nil && !awsManaged {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	for _, have := range role.AttachedPolicies {
		if have == arn {
			return nil, nil
		}
	}
	if len(role.AttachedPolicies) >= 20 {
		return nil, conflict("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 20")
	}
	role.AttachedPolicies = append(role.AttachedPolicies, arn)
	return nil, nil
}

func (a *iamAPI) detachRolePolicy(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	arn, err := p.require("PolicyArn")
	if err != nil {
		return nil, err
	}
	kept := role.AttachedPolicies[:0]
	found := false
	for _, have := range role.AttachedPolicies {
		if have == arn {
			found = true
			continue
		}
		kept = append(kept, have)
	}
	role.AttachedPolicies = kept
	if !found {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	return nil, nil
}

func (a *iamAPI) listAttachedRolePolicies(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	type attachedPolicy struct {
		PolicyName string `xml:"PolicyName"`
		PolicyArn  string `xml:"PolicyArn"`
	}
	keys := append([]string(nil), role.AttachedPolicies...)
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		AttachedPolicies members[attachedPolicy] `xml:"AttachedPolicies"`
		IsTruncated      bool                    `xml:"IsTruncated"`
		Marker           string                  `xml:"Marker,omitempty"`
	}{AttachedPolicies: members[attachedPolicy]{}, IsTruncated: truncated, Marker: marker}
	for _, arn := range page {
		out.AttachedPolicies = append(out.AttachedPolicies, attachedPolicy{PolicyName: arn[strings.LastIndex(arn, "/")+1:], PolicyArn: arn})
	}
	return out, nil
}

func (a *iamAPI) putRolePolicy(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	name, err := p.require("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := p.require("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	if role.InlinePolicies == nil {
		role.InlinePolicies = map[string]string{}
	}
	role.InlinePolicies[name] = doc
	return nil, nil
}

func (a *iamAPI) tagRole(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	return nil, addTags(&role.Tags, p)
}

func (a *iamAPI) listRoleTags(st *IAMState, _ *Request, p params) (any, error) {
	role, err := a.role(st, p)
	if err != nil {
		return nil, err
	}
	return tagList(role.Tags), nil
}

type xUser struct {
	Path             string `xml:"Path"`
	UserName         string `xml:"UserName"`
	UserID           string `xml:"UserId"`
	Arn              string `xml:"Arn"`
	CreateDate       string `xml:"CreateDate"`
	PasswordLastUsed string `xml:"PasswordLastUsed,omitempty"`
}

func (a *iamAPI) user(st *IAMState, r *Request, p params) (*User, error) {
	name := p.get("UserName")
	if name == "" {
		// Defaults to the calling user, as IAM does.
		for _, u := range st.Users {
			if u.ARN == r.Principal {
				return u, nil
			}
		}
		return nil, apiErr("ValidationError", "Must specify userName when calling with non-User credentials")
	}
	u := st.Users[name]
	if u == nil {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (a *iamAPI) listUsers(st *IAMState, _ *Request, p params) (any, error) {
	prefix := orDefault(p.get("PathPrefix"), "/")
	var keys []string
	for name, u := range st.Users {
		if strings.HasPrefix(u.Path, prefix) {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users       members[xUser] `xml:"Users"`
		IsTruncated bool           `xml:"IsTruncated"`
		Marker      string         `xml:"Marker,omitempty"`
	}{Users: members[xUser]{}, IsTruncated: truncated, Marker: marker}
	for _, k := range page {
		u := st.Users[k]
		x := xUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: isoTime(u.CreateDate)}
		if !u.PasswordLastUsed.IsZero() {
			x.PasswordLastUsed = isoTime(u.PasswordLastUsed)
		}
		out.Users = append(out.Users, x)
	}
	return out, nil
}

func (a *iamAPI) listAccessKeys(st *IAMState, r *Request, p params) (any, error) {
	u, err := a.user(st, r, p)
	if err != nil {
		return nil, err
	}
	type meta struct {
		UserName    string `xml:"UserName"`
		AccessKeyID string `xml:"AccessKeyId"`
		Status      string `xml:"Status"`
		CreateDate  string `xml:"CreateDate"`
	}
	keys := make([]string, 0, len(u.AccessKeys))
	byID := map[string]AccessKey{}
	for _, k := range u.AccessKeys {
		keys = append(keys, k.ID)
		byID[k.ID] = k
	}
	sort.Strings(keys)
	page, marker, truncated, err := iamPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccessKeyMetadata members[meta] `xml:"AccessKeyMetadata"`
		IsTruncated       bool          `xml:"IsTruncated"`
		Marker            string        `xml:"Marker,omitempty"`
	}{AccessKeyMetadata: members[meta]{}, IsTruncated: truncated, Marker: marker}
	for _, id := range page {
		k := byID[id]
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, meta{UserName: u.Name, AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.CreateDate)})
	}
	return out, nil
}

// updateAccessKey changes a key's status; an Inactive key stops
// authenticating against the sim, an Active one works again.
func (a *iamAPI) updateAccessKey(st *IAMState, r *Request, p params) (any, error) {
	id, err := p.require("AccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := p.require("Status")
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, err := a.user(st, r, p)
	if err != nil {
		return nil, err
	}
	for i := range u.AccessKeys {
		k := &u.AccessKeys[i]
		if k.ID != id {
			continue
		}
		k.Status = status
		a.sim.mu.Lock()
		if status == "Inactive" {
			delete(a.sim.keys, k.ID)
		} else {
			a.sim.keys[k.ID] = Credential{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Account: r.Account, Principal: u.ARN, UserID: u.ID}
		}
		a.sim.mu.Unlock()
		return nil, nil
	}
	return nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
}

func (a *iamAPI) tagUser(st *IAMState, r *Request, p params) (any, error) {
	if p.get("UserName") == "" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	u, err := a.user(st, r, p)
	if err != nil {
		return nil, err
	}
	return nil, addTags(&u.Tags, p)
}

func (a *iamAPI) listUserTags(st *IAMState, r *Request, p params) (any, error) {
	if p.get("UserName") == "" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")
	}
	u, err := a.user(st, r, p)
	if err != nil {
		return nil, err
	}
	return tagList(u.Tags), nil
}

func (a *iamAPI) listAccountAliases(_ *IAMState, r *Request, _ params) (any, error) {
	out := struct {
		AccountAliases members[string] `xml:"AccountAliases"`
		IsTruncated    bool            `xml:"IsTruncated"`
	}{AccountAliases: members[string]{}}
	if acct, err := a.sim.account(r.Account); err == nil && acct.Name != "" {
		out.AccountAliases = append(out.AccountAliases, acct.Name)
	}
	return out, nil
}
