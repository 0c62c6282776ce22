package change

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/store"
)

// reader makes one read-only aws-sdk call (PascalCase action).
type reader func(ctx context.Context, service, action string, params obj) (obj, error)

// UndoCall is one aws-sdk call that undoes (part of) a change.
type UndoCall struct {
	Service    string `json:"service"`
	Action     string `json:"action"`
	Parameters obj    `json:"parameters"`
	// ETagFrom, when set, is a read made just before the call, whose ETag
	// goes into the call's IfMatch (CloudFront wants a fresh one).
	ETagFrom *UndoCall `json:"etagFrom,omitempty"`
	// Restores, when set, names what the call re-creates under a new id
	// ("POLICY-ARN#VERSION-ID"), and RestoredAt is where the new id is in
	// its result: later undo calls of the rollback naming the old id get
	// the new one.
	Restores   string `json:"restores,omitempty"`
	RestoredAt string `json:"restoredAt,omitempty"`
}

// Undo is how to undo a change: calls made in order. Irreversible, when
// set, says why there is none.
type Undo struct {
	Calls        []UndoCall `json:"calls"`
	Irreversible string     `json:"-"`
	// Credentials is the Task's Credentials field the change was made
	// with, so the undo acts as the same role.
	Credentials any `json:"credentials,omitempty"`
}

// recipe is the undo knowledge of one mutating call.
type recipe struct {
	name string // service:Action
	// read returns the part of the resource the call changes: before the
	// call (result nil), after it, and at rollback (to see drift).
	read func(ctx context.Context, r reader, p obj, result any) (any, error)
	// beforeOnly: read only before the call (the resource is gone after).
	beforeOnly bool
	// undo builds the undo from the parameters, the before read and the
	// call's result (nil when planning).
	undo func(p obj, before, result any) Undo
	// irreversible, for calls that cannot be undone, says where what is
	// left is (it may look at the execution's other changes).
	irreversible func(ctx context.Context, g *Gate, c *store.Change, p obj, before any) string
	// planned gives placeholder fields of a planned result.
	planned func(p obj, hash string, t target) obj
}

func (rc *recipe) resourceOf(p obj) string {
	for _, f := range []string{"GroupId", "InstanceId", "InstanceIds.0", "VolumeId", "SnapshotId", "AllocationId", "PublicIp",
		"InternetGatewayId", "PolicyArn", "RoleName", "UserName", "AccessKeyId", "Bucket", "HostedZoneId", "Id",
		"DBInstanceIdentifier", "LoadBalancerArn", "Resources.0", "ResourceArn", "ResourceARNList.0", "FindingIdentifiers.0.Id", "GroupName", "PolicyName"} {
		if s := str(p, f); s != "" {
			if f == "PolicyName" && str(p, "RoleName") != "" {
				continue
			}
			return s
		}
	}
	return ""
}

func (rc *recipe) undoOf(p obj, before, result any) Undo {
	if rc.undo == nil {
		if rc.irreversible != nil {
			return Undo{}
		}
		return Undo{Irreversible: "no undo known for " + rc.name}
	}
	return rc.undo(p, before, result)
}

// recipes by "service:Action".
var recipes = map[string]*recipe{}

func add(name string, r recipe) {
	r.name = name
	if r.beforeOnly && r.read != nil {
		read := r.read
		r.read = func(ctx context.Context, rd reader, p obj, result any) (any, error) {
			if result != nil {
				return nil, nil
			}
			return read(ctx, rd, p, nil)
		}
	}
	recipes[name] = &r
}

// recipeFor returns the recipe of a call, or a bare one that records the
// call as irreversible.
func recipeFor(service, action string) *recipe {
	name := service + ":" + pascal(action)
	if r, ok := recipes[name]; ok {
		return r
	}
	return &recipe{name: name}
}

// Recipes lists the calls the gate knows how to undo (or to describe as
// irreversible), sorted.
func Recipes() []string {
	var out []string
	for n := range recipes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func call(service, action string, p obj) UndoCall {
	return UndoCall{Service: service, Action: action, Parameters: p}
}

func calls(c ...UndoCall) Undo { return Undo{Calls: c} }

// errorName returns the ASL error name an aws-sdk call failed with.
func errorName(err error) string {
	var ae *asl.Error
	if errors.As(err, &ae) {
		return ae.Name
	}
	return ""
}

// isMissing reports whether err says the thing read does not exist (one
// of the codes).
func isMissing(err error, codes ...string) bool {
	name := errorName(err)
	for _, c := range codes {
		if strings.Contains(name, c) {
			return true
		}
	}
	return false
}

func init() {
	addEC2()
	addIAM()
	addS3()
	addRoute53()
	addOthers()
}

// --- EC2 ---

func sgRead(egress bool) func(ctx context.Context, r reader, p obj, result any) (any, error) {
	field := "IpPermissions"
	if egress {
		field = "IpPermissionsEgress"
	}
	return func(ctx context.Context, r reader, p obj, result any) (any, error) {
		q := obj{}
		if id := str(p, "GroupId"); id != "" {
			q["GroupIds"] = []any{id}
		} else {
			q["GroupNames"] = []any{str(p, "GroupName")}
		}
		out, err := r(ctx, "ec2", "DescribeSecurityGroups", q)
		if err != nil {
			return nil, err
		}
		g := get(out, "SecurityGroups.0")
		for _, x := range asList(out["SecurityGroups"]) {
			if (str(p, "GroupId") != "" && str(x, "GroupId") == str(p, "GroupId")) || (str(p, "GroupId") == "" && str(x, "GroupName") == str(p, "GroupName")) {
				g = x
			}
		}
		st := obj{"GroupId": str(g, "GroupId"), field: sortedByJSON(asList(get(g, field)))}
		if ids := asList(p["SecurityGroupRuleIds"]); len(ids) > 0 && result == nil {
			rules, err := r(ctx, "ec2", "DescribeSecurityGroupRules", obj{"SecurityGroupRuleIds": ids})
			if err != nil {
				return nil, err
			}
			st["Rules"] = rules["SecurityGroupRules"]
		}
		return st, nil
	}
}

// permissionsOf returns the permissions a call names: IpPermissions, or
// the rules its SecurityGroupRuleIds named (from the before read).
func permissionsOf(p obj, before any) []any {
	if l := asList(p["IpPermissions"]); len(l) > 0 {
		return l
	}
	var out []any
	for _, r := range asList(get(before, "Rules")) {
		perm := pick(r, "IpProtocol", "FromPort", "ToPort")
		desc := str(r, "Description")
		withDesc := func(m obj) obj {
			if desc != "" {
				m["Description"] = desc
			}
			return m
		}
		switch {
		case str(r, "CidrIpv4") != "":
			perm["IpRanges"] = []any{withDesc(obj{"CidrIp": str(r, "CidrIpv4")})}
		case str(r, "CidrIpv6") != "":
			perm["Ipv6Ranges"] = []any{withDesc(obj{"CidrIpv6": str(r, "CidrIpv6")})}
		case str(r, "PrefixListId") != "":
			perm["PrefixListIds"] = []any{withDesc(obj{"PrefixListId": str(r, "PrefixListId")})}
		case str(r, "ReferencedGroupInfo.GroupId") != "":
			perm["UserIdGroupPairs"] = []any{withDesc(obj{"GroupId": str(r, "ReferencedGroupInfo.GroupId")})}
		}
		out = append(out, perm)
	}
	return out
}

func sgUndo(action string) func(p obj, before, result any) Undo {
	return func(p obj, before, result any) Undo {
		perms := permissionsOf(p, before)
		if len(perms) == 0 {
			return Undo{Irreversible: "the call names no permissions steward could restore"}
		}
		q := obj{"IpPermissions": perms}
		if id := str(p, "GroupId"); id != "" {
			q["GroupId"] = id
		} else if id := str(before, "GroupId"); id != "" {
			q["GroupId"] = id
		} else {
			q["GroupName"] = str(p, "GroupName")
		}
		return calls(call("ec2", action, q))
	}
}

func instanceRead(ctx context.Context, r reader, p obj) ([]any, error) {
	ids := asList(p["InstanceIds"])
	if id := str(p, "InstanceId"); id != "" {
		ids = []any{id}
	}
	out, err := r(ctx, "ec2", "DescribeInstances", obj{"InstanceIds": ids})
	if err != nil {
		return nil, err
	}
	asked := map[string]bool{}
	for _, id := range ids {
		if s, ok := id.(string); ok {
			asked[s] = true
		}
	}
	var insts []any
	for _, res := range asList(out["Reservations"]) {
		for _, i := range asList(get(res, "Instances")) {
			if asked[str(i, "InstanceId")] {
				insts = append(insts, i)
			}
		}
	}
	return insts, nil
}

// settledState maps transitional states to where they lead, so a read
// right after a call and one later compare equal.
func settledState(s string) string {
	switch s {
	case "stopping":
		return "stopped"
	case "pending":
		return "running"
	case "shutting-down":
		return "terminated"
	case "starting", "rebooting", "modifying", "configuring-enhanced-monitoring":
		return "available"
	}
	return s
}

func snapshotsOfExecution(ctx context.Context, g *Gate, c *store.Change, match func(p obj) bool) []string {
	list, err := g.cfg.Store.ListChanges(ctx, store.ChangeFilter{ExecutionARN: c.ExecutionARN, Limit: 10000})
	if err != nil {
		return nil
	}
	var out []string
	for _, ch := range list {
		if ch.Service != "ec2" || (ch.Action != "CreateSnapshot" && ch.Action != "CreateSnapshots" && ch.Action != "CreateImage") {
			continue
		}
		// A change made points at snapshots made; a plan at planned ones.
		if ch.Status != store.StatusApplied && !(c.Status == store.StatusPlanned && ch.Status == store.StatusPlanned) {
			continue
		}
		p := asObj(decode(ch.Parameters))
		if !match(p) {
			continue
		}
		res := decode(ch.Result)
		id := str(res, "SnapshotId")
		if id == "" {
			id = str(res, "ImageId")
		}
		if id != "" {
			out = append(out, fmt.Sprintf("%s (change %s)", id, ch.ID))
		}
	}
	return out
}

// imdsFields are the instance metadata options a call sets and an undo
// restores.
var imdsFields = []string{"HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit", "InstanceMetadataTags", "HttpProtocolIpv6"}

func addEC2() {
	add("ec2:RevokeSecurityGroupIngress", recipe{read: sgRead(false), undo: sgUndo("AuthorizeSecurityGroupIngress")})
	add("ec2:RevokeSecurityGroupEgress", recipe{read: sgRead(true), undo: sgUndo("AuthorizeSecurityGroupEgress")})
	add("ec2:AuthorizeSecurityGroupIngress", recipe{read: sgRead(false), undo: sgUndo("RevokeSecurityGroupIngress")})
	add("ec2:AuthorizeSecurityGroupEgress", recipe{read: sgRead(true), undo: sgUndo("RevokeSecurityGroupEgress")})

	add("ec2:ModifyInstanceMetadataOptions", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			insts, err := instanceRead(ctx, r, p)
			if err != nil {
				return nil, err
			}
			return pick(get(insts, "0.MetadataOptions"), imdsFields...), nil
		},
		undo: func(p obj, before, _ any) Undo {
			q := pick(before, imdsFields...)
			q["InstanceId"] = str(p, "InstanceId")
			return calls(call("ec2", "ModifyInstanceMetadataOptions", q))
		},
	})

	add("ec2:ModifyInstanceMetadataDefaults", recipe{
		read: func(ctx context.Context, r reader, _ obj, _ any) (any, error) {
			out, err := r(ctx, "ec2", "GetInstanceMetadataDefaults", obj{})
			if err != nil {
				return nil, err
			}
			return pick(get(out, "AccountLevel"), "HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit", "InstanceMetadataTags"), nil
		},
		undo: func(p obj, before, _ any) Undo {
			// What was not set before is set back to "no preference".
			q := obj{}
			for _, f := range []string{"HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit", "InstanceMetadataTags"} {
				if _, set := p[f]; !set {
					continue
				}
				if v, ok := asObj(before)[f]; ok {
					q[f] = v
				} else if f == "HttpPutResponseHopLimit" {
					q[f] = -1
				} else {
					q[f] = "no-preference"
				}
			}
			return calls(call("ec2", "ModifyInstanceMetadataDefaults", q))
		},
	})

	add("ec2:ModifyInstanceAttribute", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			if p["Groups"] == nil {
				return nil, nil
			}
			insts, err := instanceRead(ctx, r, p)
			if err != nil {
				return nil, err
			}
			var groups []string
			for _, g := range asList(get(insts, "0.SecurityGroups")) {
				groups = append(groups, str(g, "GroupId"))
			}
			sort.Strings(groups)
			return obj{"Groups": toAny(groups)}, nil
		},
		undo: func(p obj, before, _ any) Undo {
			if p["Groups"] == nil {
				return Undo{Irreversible: "no undo known for ec2:ModifyInstanceAttribute other than Groups"}
			}
			return calls(call("ec2", "ModifyInstanceAttribute", obj{"InstanceId": str(p, "InstanceId"), "Groups": get(before, "Groups")}))
		},
	})

	igwRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		out, err := r(ctx, "ec2", "DescribeInternetGateways", obj{"InternetGatewayIds": []any{str(p, "InternetGatewayId")}})
		if err != nil {
			return nil, err
		}
		var vpcs []string
		for _, a := range asList(get(out, "InternetGateways.0.Attachments")) {
			vpcs = append(vpcs, str(a, "VpcId"))
		}
		sort.Strings(vpcs)
		return obj{"AttachedVpcs": toAny(vpcs)}, nil
	}
	add("ec2:DetachInternetGateway", recipe{read: igwRead, undo: func(p obj, _, _ any) Undo {
		return calls(call("ec2", "AttachInternetGateway", pick(p, "InternetGatewayId", "VpcId")))
	}})
	add("ec2:AttachInternetGateway", recipe{read: igwRead, undo: func(p obj, _, _ any) Undo {
		return calls(call("ec2", "DetachInternetGateway", pick(p, "InternetGatewayId", "VpcId")))
	}})

	stateRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		insts, err := instanceRead(ctx, r, p)
		if err != nil {
			return nil, err
		}
		asked := map[string]bool{}
		for _, id := range strs(p, "InstanceIds") {
			asked[id] = true
		}
		st := obj{}
		for _, i := range insts {
			if asked[str(i, "InstanceId")] {
				st[str(i, "InstanceId")] = settledState(str(i, "State.Name"))
			}
		}
		return obj{"States": st}, nil
	}
	add("ec2:StopInstances", recipe{read: stateRead, undo: func(p obj, before, _ any) Undo {
		var ids []string
		for id, s := range asObj(get(before, "States")) {
			if s == "running" {
				ids = append(ids, id)
			}
		}
		if before == nil {
			ids = strs(p, "InstanceIds")
		}
		sort.Strings(ids)
		if len(ids) == 0 {
			return calls()
		}
		return calls(call("ec2", "StartInstances", obj{"InstanceIds": toAny(ids)}))
	}})

	add("ec2:CreateSecurityGroup", recipe{
		undo: func(p obj, _, result any) Undo {
			return calls(call("ec2", "DeleteSecurityGroup", obj{"GroupId": str(result, "GroupId")}))
		},
		planned: func(p obj, hash string, _ target) obj { return obj{"GroupId": "sg-planned-" + hash} },
	})
	add("ec2:CreateSnapshot", recipe{
		undo: func(p obj, _, result any) Undo {
			return calls(call("ec2", "DeleteSnapshot", obj{"SnapshotId": str(result, "SnapshotId")}))
		},
		planned: func(p obj, hash string, _ target) obj {
			return obj{"SnapshotId": "snap-planned-" + hash, "VolumeId": str(p, "VolumeId"), "State": "pending"}
		},
	})

	add("ec2:DeleteVolume", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "ec2", "DescribeVolumes", obj{"VolumeIds": []any{str(p, "VolumeId")}})
			if err != nil {
				return nil, err
			}
			return pick(get(out, "Volumes.0"), "VolumeId", "Size", "VolumeType", "AvailabilityZone", "Encrypted", "Iops", "SnapshotId", "Tags", "Attachments"), nil
		},
		irreversible: func(ctx context.Context, g *Gate, c *store.Change, p obj, _ any) string {
			vol := str(p, "VolumeId")
			snaps := snapshotsOfExecution(ctx, g, c, func(q obj) bool { return str(q, "VolumeId") == vol })
			if len(snaps) == 0 {
				return fmt.Sprintf("volume %s is deleted; this execution took no snapshot of it", vol)
			}
			return fmt.Sprintf("volume %s is deleted; its data is in snapshot %s, taken by this execution: restore with ec2 CreateVolume from it", vol, strings.Join(snaps, ", "))
		},
	})
	add("ec2:TerminateInstances", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			insts, err := instanceRead(ctx, r, p)
			if err != nil {
				return nil, err
			}
			var out []any
			for _, i := range insts {
				out = append(out, pick(i, "InstanceId", "InstanceType", "ImageId", "SubnetId", "VpcId", "SecurityGroups", "Tags", "BlockDeviceMappings", "KeyName"))
			}
			return obj{"Instances": out}, nil
		},
		irreversible: func(ctx context.Context, g *Gate, c *store.Change, p obj, _ any) string {
			snaps := snapshotsOfExecution(ctx, g, c, func(obj) bool { return true })
			ids := strings.Join(strs(p, "InstanceIds"), ", ")
			if len(snaps) == 0 {
				return fmt.Sprintf("instances %s are terminated; this execution took no snapshot or image; their configuration is in the record's before", ids)
			}
			return fmt.Sprintf("instances %s are terminated; snapshots/images taken by this execution: %s; their configuration is in the record's before", ids, strings.Join(snaps, ", "))
		},
	})
	add("ec2:ReleaseAddress", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			q := obj{}
			if id := str(p, "AllocationId"); id != "" {
				q["AllocationIds"] = []any{id}
			} else {
				q["PublicIps"] = []any{str(p, "PublicIp")}
			}
			out, err := r(ctx, "ec2", "DescribeAddresses", q)
			if err != nil {
				return nil, err
			}
			return get(out, "Addresses.0"), nil
		},
		irreversible: func(_ context.Context, _ *Gate, _ *store.Change, p obj, before any) string {
			ip := str(before, "PublicIp")
			if ip == "" {
				ip = str(p, "PublicIp")
			}
			return fmt.Sprintf("Elastic IP %s (allocation %s) is released; AWS may give the address to another customer", ip, str(before, "AllocationId"))
		},
	})
	add("ec2:DeleteSnapshot", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "ec2", "DescribeSnapshots", obj{"SnapshotIds": []any{str(p, "SnapshotId")}})
			if err != nil {
				return nil, err
			}
			return pick(get(out, "Snapshots.0"), "SnapshotId", "VolumeId", "VolumeSize", "StartTime", "Description", "Tags"), nil
		},
		irreversible: func(_ context.Context, _ *Gate, _ *store.Change, p obj, before any) string {
			return fmt.Sprintf("snapshot %s (of volume %s) is deleted; its data is gone", str(p, "SnapshotId"), str(before, "VolumeId"))
		},
	})

	tagRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		filters := []any{obj{"Name": "resource-id", "Values": p["Resources"]}}
		var keys []any
		for _, t := range asList(p["Tags"]) {
			keys = append(keys, str(t, "Key"))
		}
		if len(keys) > 0 {
			filters = append(filters, obj{"Name": "key", "Values": keys})
		}
		out, err := r(ctx, "ec2", "DescribeTags", obj{"Filters": filters})
		if err != nil {
			return nil, err
		}
		tags := obj{}
		for _, res := range strs(p, "Resources") {
			tags[res] = obj{}
		}
		for _, t := range asList(out["Tags"]) {
			m, ok := tags[str(t, "ResourceId")].(obj)
			if !ok {
				continue
			}
			m[str(t, "Key")] = str(t, "Value")
		}
		return obj{"Tags": tags}, nil
	}
	add("ec2:CreateTags", recipe{read: tagRead, undo: func(p obj, before, _ any) Undo {
		var u Undo
		for _, res := range strs(p, "Resources") {
			old := asObj(get(before, "Tags."+res))
			var restore, remove []any
			for _, t := range asList(p["Tags"]) {
				k := str(t, "Key")
				if v, ok := old[k]; ok {
					restore = append(restore, obj{"Key": k, "Value": v})
				} else {
					remove = append(remove, obj{"Key": k})
				}
			}
			if len(remove) > 0 {
				u.Calls = append(u.Calls, call("ec2", "DeleteTags", obj{"Resources": []any{res}, "Tags": remove}))
			}
			if len(restore) > 0 {
				u.Calls = append(u.Calls, call("ec2", "CreateTags", obj{"Resources": []any{res}, "Tags": restore}))
			}
		}
		return u
	}})
	add("ec2:DeleteTags", recipe{read: tagRead, undo: func(p obj, before, _ any) Undo {
		var u Undo
		for _, res := range strs(p, "Resources") {
			old := asObj(get(before, "Tags."+res))
			keys := make([]string, 0, len(old))
			for k := range old {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var restore []any
			for _, k := range keys {
				restore = append(restore, obj{"Key": k, "Value": old[k]})
			}
			if len(restore) > 0 {
				u.Calls = append(u.Calls, call("ec2", "CreateTags", obj{"Resources": []any{res}, "Tags": restore}))
			}
		}
		return u
	}})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// --- IAM ---

func addIAM() {
	defaultRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		out, err := r(ctx, "iam", "GetPolicy", obj{"PolicyArn": str(p, "PolicyArn")})
		if err != nil {
			return nil, err
		}
		return obj{"DefaultVersionId": str(out, "Policy.DefaultVersionId")}, nil
	}
	add("iam:SetDefaultPolicyVersion", recipe{read: defaultRead, undo: func(p obj, before, _ any) Undo {
		return calls(call("iam", "SetDefaultPolicyVersion", obj{"PolicyArn": str(p, "PolicyArn"), "VersionId": str(before, "DefaultVersionId")}))
	}})
	add("iam:DeletePolicyVersion", recipe{
		read: func(ctx context.Context, r reader, p obj, result any) (any, error) {
			list, err := r(ctx, "iam", "ListPolicyVersions", obj{"PolicyArn": str(p, "PolicyArn")})
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, v := range asList(list["Versions"]) {
				ids = append(ids, str(v, "VersionId"))
			}
			sort.Strings(ids)
			st := obj{"Versions": toAny(ids)}
			if result == nil {
				out, err := r(ctx, "iam", "GetPolicyVersion", pick(p, "PolicyArn", "VersionId"))
				if err != nil {
					return nil, err
				}
				doc := str(out, "PolicyVersion.Document")
				if d, err := url.QueryUnescape(doc); err == nil {
					doc = d
				}
				st["Document"] = doc
				st["IsDefaultVersion"] = get(out, "PolicyVersion.IsDefaultVersion") == true
			}
			return st, nil
		},
		undo: func(p obj, before, _ any) Undo {
			if str(before, "Document") == "" {
				return Undo{Irreversible: fmt.Sprintf("policy version %s of %s is deleted and its document was not read", str(p, "VersionId"), str(p, "PolicyArn"))}
			}
			// The document comes back as a new version (IAM numbers versions itself).
			c := call("iam", "CreatePolicyVersion", obj{"PolicyArn": str(p, "PolicyArn"), "PolicyDocument": str(before, "Document"),
				"SetAsDefault": get(before, "IsDefaultVersion") == true})
			c.Restores, c.RestoredAt = str(p, "PolicyArn")+"#"+str(p, "VersionId"), "PolicyVersion.VersionId"
			return calls(c)
		},
	})
	add("iam:CreatePolicyVersion", recipe{
		// The default and the versions: a version made without becoming the
		// default still shows.
		read: func(ctx context.Context, r reader, p obj, result any) (any, error) {
			st, err := defaultRead(ctx, r, p, result)
			if err != nil {
				return nil, err
			}
			list, err := r(ctx, "iam", "ListPolicyVersions", obj{"PolicyArn": str(p, "PolicyArn")})
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, v := range asList(list["Versions"]) {
				ids = append(ids, str(v, "VersionId"))
			}
			sort.Strings(ids)
			m := asObj(st)
			m["Versions"] = toAny(ids)
			return m, nil
		},
		undo: func(p obj, before, result any) Undo {
			var u Undo
			if p["SetAsDefault"] == true || get(result, "PolicyVersion.IsDefaultVersion") == true {
				u.Calls = append(u.Calls, call("iam", "SetDefaultPolicyVersion", obj{"PolicyArn": str(p, "PolicyArn"), "VersionId": str(before, "DefaultVersionId")}))
			}
			u.Calls = append(u.Calls, call("iam", "DeletePolicyVersion", obj{"PolicyArn": str(p, "PolicyArn"), "VersionId": str(result, "PolicyVersion.VersionId")}))
			return u
		},
		planned: func(p obj, hash string, _ target) obj {
			return obj{"PolicyVersion": obj{"VersionId": "v-planned-" + hash, "IsDefaultVersion": p["SetAsDefault"] == true}}
		},
	})
	attached := func(kind string) func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		return func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "iam", "ListAttached"+kind+"Policies", obj{kind + "Name": str(p, kind+"Name")})
			if err != nil {
				return nil, err
			}
			var arns []string
			for _, a := range asList(out["AttachedPolicies"]) {
				arns = append(arns, str(a, "PolicyArn"))
			}
			sort.Strings(arns)
			return obj{"AttachedPolicies": toAny(arns)}, nil
		}
	}
	for _, kind := range []string{"Role", "User"} {
		kind := kind
		add("iam:Attach"+kind+"Policy", recipe{read: attached(kind), undo: func(p obj, _, _ any) Undo {
			return calls(call("iam", "Detach"+kind+"Policy", pick(p, kind+"Name", "PolicyArn")))
		}})
		add("iam:Detach"+kind+"Policy", recipe{read: attached(kind), undo: func(p obj, _, _ any) Undo {
			return calls(call("iam", "Attach"+kind+"Policy", pick(p, kind+"Name", "PolicyArn")))
		}})
		inlineRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "iam", "Get"+kind+"Policy", pick(p, kind+"Name", "PolicyName"))
			if err != nil {
				if isMissing(err, "NoSuchEntity") {
					return obj{"Exists": false}, nil
				}
				return nil, err
			}
			doc := str(out, "PolicyDocument")
			if d, err := url.QueryUnescape(doc); err == nil {
				doc = d
			}
			return obj{"Exists": true, "PolicyDocument": doc}, nil
		}
		add("iam:Put"+kind+"Policy", recipe{read: inlineRead, undo: func(p obj, before, _ any) Undo {
			q := pick(p, kind+"Name", "PolicyName")
			if get(before, "Exists") == true {
				q["PolicyDocument"] = str(before, "PolicyDocument")
				return calls(call("iam", "Put"+kind+"Policy", q))
			}
			return calls(call("iam", "Delete"+kind+"Policy", q))
		}})
		add("iam:Delete"+kind+"Policy", recipe{read: inlineRead, undo: func(p obj, before, _ any) Undo {
			if get(before, "Exists") != true {
				return calls()
			}
			q := pick(p, kind+"Name", "PolicyName")
			q["PolicyDocument"] = str(before, "PolicyDocument")
			return calls(call("iam", "Put"+kind+"Policy", q))
		}})
	}
	add("iam:UpdateAccessKey", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			q := obj{}
			if u := str(p, "UserName"); u != "" {
				q["UserName"] = u
			}
			out, err := r(ctx, "iam", "ListAccessKeys", q)
			if err != nil {
				return nil, err
			}
			for _, k := range asList(out["AccessKeyMetadata"]) {
				if str(k, "AccessKeyId") == str(p, "AccessKeyId") {
					return obj{"Status": str(k, "Status")}, nil
				}
			}
			return obj{}, nil
		},
		undo: func(p obj, before, _ any) Undo {
			q := pick(p, "AccessKeyId", "UserName")
			q["Status"] = str(before, "Status")
			return calls(call("iam", "UpdateAccessKey", q))
		},
	})
	add("iam:CreatePolicy", recipe{
		undo: func(p obj, _, result any) Undo {
			return calls(call("iam", "DeletePolicy", obj{"PolicyArn": str(result, "Policy.Arn")}))
		},
		planned: func(p obj, hash string, t target) obj {
			path := str(p, "Path")
			if path == "" {
				path = "/"
			}
			return obj{"Policy": obj{"PolicyName": str(p, "PolicyName"), "Arn": "arn:aws:iam::" + t.Account + ":policy" + path + str(p, "PolicyName"), "DefaultVersionId": "v1"}}
		},
	})
}

// --- S3 ---

func addS3() {
	pabRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		out, err := r(ctx, "s3", "GetPublicAccessBlock", pick(p, "Bucket", "ExpectedBucketOwner"))
		if err != nil {
			if isMissing(err, "NoSuchPublicAccessBlockConfiguration") {
				return obj{"Exists": false}, nil
			}
			return nil, err
		}
		return obj{"Exists": true, "PublicAccessBlockConfiguration": out["PublicAccessBlockConfiguration"]}, nil
	}
	add("s3:PutPublicAccessBlock", recipe{read: pabRead, undo: func(p obj, before, _ any) Undo {
		if get(before, "Exists") == true {
			return calls(call("s3", "PutPublicAccessBlock", obj{"Bucket": str(p, "Bucket"), "PublicAccessBlockConfiguration": get(before, "PublicAccessBlockConfiguration")}))
		}
		return calls(call("s3", "DeletePublicAccessBlock", obj{"Bucket": str(p, "Bucket")}))
	}})
	add("s3:DeletePublicAccessBlock", recipe{read: pabRead, undo: func(p obj, before, _ any) Undo {
		if get(before, "Exists") != true {
			return calls()
		}
		return calls(call("s3", "PutPublicAccessBlock", obj{"Bucket": str(p, "Bucket"), "PublicAccessBlockConfiguration": get(before, "PublicAccessBlockConfiguration")}))
	}})
	policyRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		out, err := r(ctx, "s3", "GetBucketPolicy", pick(p, "Bucket", "ExpectedBucketOwner"))
		if err != nil {
			if isMissing(err, "NoSuchBucketPolicy") {
				return obj{"Exists": false}, nil
			}
			return nil, err
		}
		return obj{"Exists": true, "Policy": str(out, "Policy")}, nil
	}
	restorePolicy := func(p obj, before, _ any) Undo {
		if get(before, "Exists") == true {
			return calls(call("s3", "PutBucketPolicy", obj{"Bucket": str(p, "Bucket"), "Policy": str(before, "Policy")}))
		}
		return calls(call("s3", "DeleteBucketPolicy", obj{"Bucket": str(p, "Bucket")}))
	}
	add("s3:PutBucketPolicy", recipe{read: policyRead, undo: restorePolicy})
	add("s3:DeleteBucketPolicy", recipe{read: policyRead, undo: restorePolicy})
}

// --- Route 53 ---

func r53Name(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

func addRoute53() {
	add("route53:ChangeResourceRecordSets", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			var recs []any
			for _, c := range asList(get(p, "ChangeBatch.Changes")) {
				want := asObj(get(c, "ResourceRecordSet"))
				out, err := r(ctx, "route53", "ListResourceRecordSets", obj{"HostedZoneId": str(p, "HostedZoneId"),
					"StartRecordName": str(want, "Name"), "StartRecordType": str(want, "Type"), "MaxItems": 10})
				if err != nil {
					return nil, err
				}
				var found any
				for _, rs := range asList(out["ResourceRecordSets"]) {
					if r53Name(str(rs, "Name")) == r53Name(str(want, "Name")) && str(rs, "Type") == str(want, "Type") &&
						str(rs, "SetIdentifier") == str(want, "SetIdentifier") {
						found = rs
						break
					}
				}
				recs = append(recs, found)
			}
			return obj{"RecordSets": recs}, nil
		},
		undo: func(p obj, before, _ any) Undo {
			changes := asList(get(p, "ChangeBatch.Changes"))
			olds := asList(get(before, "RecordSets"))
			var inverse []any
			for i := len(changes) - 1; i >= 0; i-- {
				rs := get(changes[i], "ResourceRecordSet")
				var old any
				if i < len(olds) {
					old = olds[i]
				}
				switch strings.ToUpper(str(changes[i], "Action")) {
				case "CREATE":
					inverse = append(inverse, obj{"Action": "DELETE", "ResourceRecordSet": rs})
				case "DELETE":
					if old == nil {
						old = rs
					}
					inverse = append(inverse, obj{"Action": "CREATE", "ResourceRecordSet": old})
				case "UPSERT":
					if old != nil {
						inverse = append(inverse, obj{"Action": "UPSERT", "ResourceRecordSet": old})
					} else {
						inverse = append(inverse, obj{"Action": "DELETE", "ResourceRecordSet": rs})
					}
				}
			}
			return calls(call("route53", "ChangeResourceRecordSets", obj{"HostedZoneId": str(p, "HostedZoneId"),
				"ChangeBatch": obj{"Comment": "steward rollback", "Changes": inverse}}))
		},
		planned: func(p obj, hash string, _ target) obj {
			return obj{"ChangeInfo": obj{"Id": "/change/C-PLANNED-" + strings.ToUpper(hash), "Status": "PENDING"}}
		},
	})
	add("route53:DeleteHostedZone", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "route53", "ListResourceRecordSets", obj{"HostedZoneId": str(p, "Id"), "MaxItems": 300})
			if err != nil {
				return nil, err
			}
			return obj{"ResourceRecordSets": out["ResourceRecordSets"]}, nil
		},
		irreversible: func(_ context.Context, _ *Gate, _ *store.Change, p obj, before any) string {
			return fmt.Sprintf("hosted zone %s is deleted; its %d record sets are listed in the record's before (a new zone gets new name servers)",
				str(p, "Id"), len(asList(get(before, "ResourceRecordSets"))))
		},
	})
}

// --- CloudFront, RDS, ELB, Security Hub ---

// completeDistributionConfig puts back the required fields a read leaves
// out when they are empty (the aws-sdk integration drops empty strings), so
// the config can be sent to UpdateDistribution again: an S3 origin's
// OriginAccessIdentity.
func completeDistributionConfig(cfg any) any {
	for _, o := range asList(get(cfg, "Origins.Items")) {
		if s3, ok := get(o, "S3OriginConfig").(map[string]any); ok {
			if _, ok := s3["OriginAccessIdentity"]; !ok {
				s3["OriginAccessIdentity"] = ""
			}
		}
	}
	return cfg
}

func addOthers() {
	add("cloudfront:UpdateDistribution", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "cloudfront", "GetDistributionConfig", obj{"Id": str(p, "Id")})
			if err != nil {
				return nil, err
			}
			return obj{"DistributionConfig": completeDistributionConfig(out["DistributionConfig"])}, nil
		},
		undo: func(p obj, before, _ any) Undo {
			c := call("cloudfront", "UpdateDistribution", obj{"Id": str(p, "Id"), "DistributionConfig": get(before, "DistributionConfig")})
			from := call("cloudfront", "GetDistributionConfig", obj{"Id": str(p, "Id")})
			c.ETagFrom = &from
			return calls(c)
		},
		planned: func(p obj, hash string, _ target) obj {
			return obj{"ETag": "PLANNED" + strings.ToUpper(hash), "Distribution": obj{"Id": str(p, "Id")}}
		},
	})

	dbRead := func(ctx context.Context, r reader, p obj, _ any) (any, error) {
		out, err := r(ctx, "rds", "DescribeDBInstances", obj{"DBInstanceIdentifier": str(p, "DBInstanceIdentifier")})
		if err != nil {
			return nil, err
		}
		return obj{"DBInstanceStatus": settledState(str(out, "DBInstances.0.DBInstanceStatus"))}, nil
	}
	add("rds:StopDBInstance", recipe{read: dbRead, undo: func(p obj, before, _ any) Undo {
		// StopDBInstance stops only an available instance; one already
		// stopped stays so.
		if s := str(before, "DBInstanceStatus"); s == "stopped" {
			return calls()
		}
		return calls(call("rds", "StartDBInstance", obj{"DBInstanceIdentifier": str(p, "DBInstanceIdentifier")}))
	}})
	add("rds:DeleteDBInstance", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			out, err := r(ctx, "rds", "DescribeDBInstances", obj{"DBInstanceIdentifier": str(p, "DBInstanceIdentifier")})
			if err != nil {
				return nil, err
			}
			return pick(get(out, "DBInstances.0"), "DBInstanceIdentifier", "DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "MultiAZ", "DBSubnetGroup", "VpcSecurityGroups", "TagList"), nil
		},
		irreversible: func(_ context.Context, _ *Gate, _ *store.Change, p obj, _ any) string {
			id := str(p, "DBInstanceIdentifier")
			if snap := str(p, "FinalDBSnapshotIdentifier"); snap != "" && p["SkipFinalSnapshot"] != true {
				return fmt.Sprintf("DB instance %s is deleted; its data is in the final snapshot %s: restore with rds RestoreDBInstanceFromDBSnapshot", id, snap)
			}
			return fmt.Sprintf("DB instance %s is deleted without a final snapshot", id)
		},
	})
	add("elasticloadbalancingv2:DeleteLoadBalancer", recipe{
		beforeOnly: true,
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			arn := str(p, "LoadBalancerArn")
			out, err := r(ctx, "elasticloadbalancingv2", "DescribeLoadBalancers", obj{"LoadBalancerArns": []any{arn}})
			if err != nil {
				return nil, err
			}
			attrs, err := r(ctx, "elasticloadbalancingv2", "DescribeLoadBalancerAttributes", obj{"LoadBalancerArn": arn})
			if err != nil {
				return nil, err
			}
			return obj{"LoadBalancer": get(out, "LoadBalancers.0"), "Attributes": attrs["Attributes"]}, nil
		},
		irreversible: func(_ context.Context, _ *Gate, _ *store.Change, p obj, _ any) string {
			return fmt.Sprintf("load balancer %s is deleted; its configuration and attributes are in the record's before (its DNS name is gone)", str(p, "LoadBalancerArn"))
		},
	})
	add("securityhub:BatchUpdateFindings", recipe{
		read: func(ctx context.Context, r reader, p obj, _ any) (any, error) {
			var ids []any
			for _, f := range asList(p["FindingIdentifiers"]) {
				ids = append(ids, obj{"Value": str(f, "Id"), "Comparison": "EQUALS"})
			}
			out, err := r(ctx, "securityhub", "GetFindings", obj{"Filters": obj{"Id": ids}, "MaxResults": 100})
			if err != nil {
				return nil, err
			}
			st := obj{}
			for _, f := range asList(out["Findings"]) {
				st[str(f, "Id")] = str(f, "Workflow.Status")
			}
			return obj{"WorkflowStatus": st}, nil
		},
		undo: func(p obj, before, _ any) Undo {
			if get(p, "Workflow.Status") == nil {
				return Undo{Irreversible: "steward undoes only the Workflow.Status of securityhub:BatchUpdateFindings"}
			}
			byStatus := map[string][]any{}
			old := asObj(get(before, "WorkflowStatus"))
			for _, f := range asList(p["FindingIdentifiers"]) {
				if s, _ := old[str(f, "Id")].(string); s != "" {
					byStatus[s] = append(byStatus[s], pick(f, "Id", "ProductArn"))
				}
			}
			statuses := make([]string, 0, len(byStatus))
			for s := range byStatus {
				statuses = append(statuses, s)
			}
			sort.Strings(statuses)
			var u Undo
			for _, s := range statuses {
				u.Calls = append(u.Calls, call("securityhub", "BatchUpdateFindings", obj{"FindingIdentifiers": byStatus[s], "Workflow": obj{"Status": s}}))
			}
			return u
		},
	})
}
