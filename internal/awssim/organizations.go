package awssim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// organizationsService serves AWS Organizations (awsJson1_1, global) over
// the sim's accounts (Sim.Accounts): every account is a member except those
// whose Class is "standalone"; the management account is the one whose
// Class is "management", else the member with the lowest id. Each account
// sits in the OU its OU path names ("Root/Security/Prod"; empty: the root).
// Only the management account may call it, as in AWS: a member gets
// AccessDeniedException (DescribeOrganization excepted), an account outside
// the organisation AWSOrganizationsNotInUseException.
type organizationsService struct {
	*jsonService
	sim *Sim
}

func newOrganizations(s *Sim) *organizationsService {
	o := &organizationsService{sim: s}
	o.jsonService = &jsonService{name: "organizations", prefix: "AWSOrganizationsV20161128", ops: map[string]jsonHandler{
		"DescribeOrganization":             o.describeOrganization,
		"ListAccounts":                     o.listAccounts,
		"ListRoots":                        o.listRoots,
		"ListOrganizationalUnitsForParent": o.listOUsForParent,
		"ListParents":                      o.listParents,
		"ListAccountsForParent":            o.listAccountsForParent,
		"ListTagsForResource":              o.listTags,
		"DescribeAccount":                  o.describeAccount,
	}}
	return o
}

// orgView is the organisation derived from the sim's accounts.
type orgView struct {
	id, mgmt, mgmtEmail, rootID, partition string
	members                                []AccountInfo
	ous                                    map[string]*orgOU // by id
	parent                                 map[string]string // child id -> parent id
}

type orgOU struct {
	id, name, path string
}

func (o *organizationsService) view() orgView {
	v := orgView{ous: map[string]*orgOU{}, parent: map[string]string{}, partition: o.sim.Partition()}
	for _, a := range o.sim.Accounts() {
		if a.Class != "standalone" {
			v.members = append(v.members, a)
		}
	}
	for _, a := range v.members {
		if a.Class == "management" {
			v.mgmt, v.mgmtEmail = a.ID, a.Email
			break
		}
	}
	if v.mgmt == "" && len(v.members) > 0 {
		v.mgmt, v.mgmtEmail = v.members[0].ID, v.members[0].Email
	}
	v.id = fmt.Sprintf("o-%010x", hashString("org"+v.mgmt))[:12]
	v.rootID = fmt.Sprintf("r-%04x", hashString("root"+v.mgmt)&0xffff)
	for _, a := range v.members {
		parent := v.rootID
		segs := strings.Split(strings.Trim(a.OU, "/"), "/")
		if len(segs) > 0 && strings.EqualFold(segs[0], "root") {
			segs = segs[1:]
		}
		path := ""
		for _, seg := range segs {
			if seg == "" {
				continue
			}
			path += "/" + seg
			id := fmt.Sprintf("%s-%08x", "ou-"+v.rootID[2:], hashString(path)&0xffffffff)
			if v.ous[id] == nil {
				v.ous[id] = &orgOU{id: id, name: seg, path: path}
				v.parent[id] = parent
			}
			parent = id
		}
		v.parent[a.ID] = parent
	}
	return v
}

func (v orgView) arn(kind, id string) string {
	switch kind {
	case "organization":
		return fmt.Sprintf("arn:%s:organizations::%s:organization/%s", v.partition, v.mgmt, v.id)
	case "root":
		return fmt.Sprintf("arn:%s:organizations::%s:root/%s/%s", v.partition, v.mgmt, v.id, id)
	}
	return fmt.Sprintf("arn:%s:organizations::%s:%s/%s/%s", v.partition, v.mgmt, kind, v.id, id)
}

// access checks the caller may use the API.
func (o *organizationsService) access(r *Request, mgmtOnly bool) (orgView, error) {
	v := o.view()
	member := false
	for _, a := range v.members {
		if a.ID == r.Account {
			member = true
		}
	}
	if !member {
		return v, orgErr(404, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if mgmtOnly && r.Account != v.mgmt {
		return v, orgErr(403, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return v, nil
}

// orgErr is an Organizations error with the HTTP status its model gives.
func orgErr(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg, Sender: true}
}

type xOrgAccount struct {
	ID              string       `json:"Id"`
	Arn             string       `json:"Arn"`
	Email           string       `json:"Email"`
	Name            string       `json:"Name"`
	Status          string       `json:"Status"`
	State           string       `json:"State"`
	JoinedMethod    string       `json:"JoinedMethod"`
	JoinedTimestamp epochSeconds `json:"JoinedTimestamp"`
}

func (o *organizationsService) xAccount(v orgView, a AccountInfo) xOrgAccount {
	method := "INVITED"
	if a.ID == v.mgmt {
		method = "CREATED"
	}
	email := a.Email
	if email == "" {
		email = a.ID + "@example.com"
	}
	return xOrgAccount{ID: a.ID, Arn: v.arn("account", a.ID), Email: email, Name: a.Name, Status: "ACTIVE", State: "ACTIVE",
		JoinedMethod: method, JoinedTimestamp: epochSeconds(o.sim.Now().AddDate(-1, 0, 0).Truncate(24 * time.Hour))}
}

// orgPage cuts one page of n items per MaxResults (1..20) and NextToken.
func orgPage(n int, maxResults *int, token *string) (start, end int, next *string, err error) {
	limit := 20
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 20 {
			return 0, 0, nil, apiErr("InvalidInputException", "You provided a value that does not match the required pattern.")
		}
		limit = *maxResults
	}
	if token != nil {
		s, ok := parsePageToken("orgt", *token)
		if !ok || s > n {
			return 0, 0, nil, apiErr("InvalidInputException", "The provided token is invalid.")
		}
		start = s
	}
	end = min(n, start+limit)
	if end < n {
		t := pageToken("orgt", end)
		next = &t
	}
	return start, end, next, nil
}

type orgPaging struct {
	MaxResults *int
	NextToken  *string
}

func (o *organizationsService) describeOrganization(r *Request, _ []byte) (any, error) {
	v, err := o.access(r, false)
	if err != nil {
		return nil, err
	}
	email := v.mgmtEmail
	if email == "" {
		email = v.mgmt + "@example.com"
	}
	return map[string]any{"Organization": map[string]any{
		"Id": v.id, "Arn": v.arn("organization", ""), "FeatureSet": "ALL",
		"MasterAccountArn": v.arn("account", v.mgmt), "MasterAccountId": v.mgmt, "MasterAccountEmail": email,
		"AvailablePolicyTypes": []any{map[string]any{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}},
	}}, nil
}

func (o *organizationsService) listAccounts(r *Request, body []byte) (any, error) {
	var in orgPaging
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	return o.accountsPage(v, v.members, in)
}

func (o *organizationsService) accountsPage(v orgView, accts []AccountInfo, in orgPaging) (any, error) {
	start, end, next, err := orgPage(len(accts), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Accounts  []xOrgAccount
		NextToken *string `json:",omitempty"`
	}{Accounts: []xOrgAccount{}, NextToken: next}
	for _, a := range accts[start:end] {
		out.Accounts = append(out.Accounts, o.xAccount(v, a))
	}
	return out, nil
}

func (o *organizationsService) listRoots(r *Request, body []byte) (any, error) {
	var in orgPaging
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Roots": []any{map[string]any{"Id": v.rootID, "Arn": v.arn("root", v.rootID), "Name": "Root",
		"PolicyTypes": []any{map[string]any{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}}}}, nil
}

func (v orgView) isParent(id string) bool { return id == v.rootID || v.ous[id] != nil }

func (o *organizationsService) listOUsForParent(r *Request, body []byte) (any, error) {
	var in struct {
		ParentID string `json:"ParentId"`
		orgPaging
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	if !v.isParent(in.ParentID) {
		return nil, orgErr(404, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	var ous []*orgOU
	for id, ou := range v.ous {
		if v.parent[id] == in.ParentID {
			ous = append(ous, ou)
		}
	}
	sort.Slice(ous, func(i, j int) bool { return ous[i].id < ous[j].id })
	start, end, next, err := orgPage(len(ous), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	items := []map[string]string{}
	for _, ou := range ous[start:end] {
		items = append(items, map[string]string{"Id": ou.id, "Arn": v.arn("ou", ou.id), "Name": ou.name})
	}
	return struct {
		OrganizationalUnits []map[string]string
		NextToken           *string `json:",omitempty"`
	}{items, next}, nil
}

func (o *organizationsService) listParents(r *Request, body []byte) (any, error) {
	var in struct {
		ChildID string `json:"ChildId"`
		orgPaging
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	p, ok := v.parent[in.ChildID]
	if !ok {
		return nil, orgErr(404, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	typ := "ORGANIZATIONAL_UNIT"
	if p == v.rootID {
		typ = "ROOT"
	}
	return map[string]any{"Parents": []any{map[string]string{"Id": p, "Type": typ}}}, nil
}

func (o *organizationsService) listAccountsForParent(r *Request, body []byte) (any, error) {
	var in struct {
		ParentID string `json:"ParentId"`
		orgPaging
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	if !v.isParent(in.ParentID) {
		return nil, orgErr(404, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	var accts []AccountInfo
	for _, a := range v.members {
		if v.parent[a.ID] == in.ParentID {
			accts = append(accts, a)
		}
	}
	return o.accountsPage(v, accts, in.orgPaging)
}

func (o *organizationsService) describeAccount(r *Request, body []byte) (any, error) {
	var in struct {
		AccountID string `json:"AccountId"`
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	for _, a := range v.members {
		if a.ID == in.AccountID {
			return map[string]any{"Account": o.xAccount(v, a)}, nil
		}
	}
	return nil, orgErr(404, "AccountNotFoundException", "You specified an account that doesn't exist.")
}

func (o *organizationsService) listTags(r *Request, body []byte) (any, error) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		orgPaging
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	v, err := o.access(r, true)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	found := v.isParent(in.ResourceID)
	for _, a := range v.members {
		if a.ID == in.ResourceID {
			tags, found = a.Tags, true
		}
	}
	if !found {
		return nil, orgErr(404, "TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	start, end, next, err := orgPage(len(keys), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := []map[string]string{}
	for _, k := range keys[start:end] {
		out = append(out, map[string]string{"Key": k, "Value": tags[k]})
	}
	return struct {
		Tags      []map[string]string
		NextToken *string `json:",omitempty"`
	}{out, next}, nil
}
