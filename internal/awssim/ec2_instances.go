package awssim

import (
	"fmt"
	"strconv"
	"time"
)

var instanceStateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func stateOf(name string) xInstanceState {
	return xInstanceState{Code: instanceStateCodes[name], Name: name}
}

// view renders an instance; vols lists the volumes attached to it.
func (in *Instance) view(rs *RegionState, vols []attached) xInstance {
	x := xInstance{
		InstanceID: in.ID, ImageID: in.ImageID, State: stateOf(in.State), Reason: in.StateTransitionReason,
		KeyName: in.KeyName, InstanceType: in.InstanceType, LaunchTime: isoTime(in.LaunchTime),
		Placement:  xPlacement{AvailabilityZone: in.AvailabilityZone, Tenancy: "default"},
		Platform:   in.Platform,
		Monitoring: xMonitoring{State: orDefault(in.Monitoring, "disabled")},
		SubnetID:   in.SubnetID, VpcID: in.VpcID, PrivateIPAddress: in.PrivateIP,
		SourceDestCheck: true, Architecture: orDefault(in.Architecture, "x86_64"), RootDeviceType: "ebs",
		RootDeviceName: orDefault(in.RootDeviceName, "/dev/xvda"), VirtualizationType: "hvm",
		Hypervisor: "xen", EbsOptimized: false, EnaSupport: true, Tags: xTags(in.Tags),
		CPUOptions:   xCPUOptions{CoreCount: 1, ThreadsPerCore: 2},
		ProductCodes: set[xProductCode]{}, Groups: set[xGroupIdentifier]{},
		BlockDeviceMappings: set[xBlockDeviceMapping]{},
		PlatformDetails:     "Linux/UNIX", UsageOperation: "RunInstances",
		UsageOperationUpdated: isoTime(in.LaunchTime),
		MetadataOptions:       in.metadataView(),
		CapacityReservation:   xCapacityReservation{Preference: "open"},
		MaintenanceOptions:    xMaintenanceOptions{AutoRecovery: "default"},
		PrivateDNSNameOptions: xPrivateDNSNameOptions{HostnameType: "ip-name"},
	}
	switch in.State {
	case "stopping", "stopped", "shutting-down", "terminated":
		x.StateReason = &xStateReason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	}
	if in.State == "running" || in.State == "stopping" || in.State == "pending" {
		x.IPAddress = in.PublicIP
	}
	if in.PrivateIP != "" {
		x.PrivateDNSName = "ip-" + dashed(in.PrivateIP) + "." + rs.Region + ".compute.internal"
	}
	if x.IPAddress != "" {
		x.DNSName = "ec2-" + dashed(x.IPAddress) + "." + rs.Region + ".compute.amazonaws.com"
	}
	if in.IAMInstanceProfileARN != "" {
		x.IamInstanceProfile = &xIamInstanceProfile{Arn: in.IAMInstanceProfileARN, ID: "AIPA" + in.ID[2:]}
	}
	for _, g := range in.SecurityGroupIDs {
		name := ""
		if sg := rs.SecurityGroups[g]; sg != nil {
			name = sg.Name
		}
		x.Groups = append(x.Groups, xGroupIdentifier{GroupID: g, GroupName: name})
	}
	for _, a := range vols {
		x.BlockDeviceMappings = append(x.BlockDeviceMappings, xBlockDeviceMapping{DeviceName: a.att.Device,
			Ebs: xEbsBlockDevice{VolumeID: a.volumeID, Status: a.att.State, AttachTime: isoTime(a.att.AttachTime),
				DeleteOnTermination: a.att.DeleteOnTermination}})
	}
	return x
}

func (in *Instance) metadataView() xMetadataOptions {
	state := "applied"
	if !in.metadataSettledAt.IsZero() {
		state = "pending"
	}
	return xMetadataOptions{State: state, HTTPTokens: orDefault(in.HTTPTokens, "optional"),
		HTTPPutResponseHopLimit: orInt(in.HTTPHopLimit, 1), HTTPEndpoint: orDefault(in.HTTPEndpoint, "enabled"),
		HTTPProtocolIpv6: "disabled", InstanceMetadataTags: orDefault(in.MetadataTags, "disabled")}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orInt(n, d int) int {
	if n == 0 {
		return d
	}
	return n
}

func dashed(ip string) string {
	b := []byte(ip)
	for i, c := range b {
		if c == '.' || c == ':' {
			b[i] = '-'
		}
	}
	return string(b)
}

type attached struct {
	volumeID string
	att      VolumeAttachment
}

// attachmentsByInstance indexes volume attachments by instance id.
func (rs *RegionState) attachmentsByInstance() map[string][]attached {
	out := map[string][]attached{}
	for _, id := range sortedIDs(rs.Volumes, &rs.volIDs) {
		for _, a := range rs.Volumes[id].Attachments {
			out[a.InstanceID] = append(out[a.InstanceID], attached{volumeID: id, att: a})
		}
	}
	return out
}

func (in *Instance) filter(rs *RegionState) filterFunc {
	return func(name string) ([]string, bool) {
		one := func(s string) ([]string, bool) { return []string{s}, true }
		switch name {
		case "instance-id":
			return one(in.ID)
		case "instance-state-name":
			return one(in.State)
		case "instance-state-code":
			return one(strconv.Itoa(instanceStateCodes[in.State]))
		case "instance-type":
			return one(in.InstanceType)
		case "image-id":
			return one(in.ImageID)
		case "key-name":
			return one(in.KeyName)
		case "vpc-id":
			return one(in.VpcID)
		case "subnet-id":
			return one(in.SubnetID)
		case "availability-zone":
			return one(in.AvailabilityZone)
		case "launch-time":
			return one(isoTime(in.LaunchTime))
		case "private-ip-address":
			return one(in.PrivateIP)
		case "ip-address":
			return one(in.PublicIP)
		case "reservation-id":
			return one(in.ReservationID)
		case "architecture":
			return one(orDefault(in.Architecture, "x86_64"))
		case "platform":
			return one(in.Platform)
		case "iam-instance-profile.arn":
			return one(in.IAMInstanceProfileARN)
		case "metadata-options.http-tokens":
			return one(orDefault(in.HTTPTokens, "optional"))
		case "metadata-options.http-endpoint":
			return one(orDefault(in.HTTPEndpoint, "enabled"))
		case "metadata-options.http-put-response-hop-limit":
			return one(strconv.Itoa(orInt(in.HTTPHopLimit, 1)))
		case "instance.group-id", "group-id":
			return in.SecurityGroupIDs, true
		case "instance.group-name", "group-name":
			var names []string
			for _, g := range in.SecurityGroupIDs {
				if sg := rs.SecurityGroups[g]; sg != nil {
					names = append(names, sg.Name)
				}
			}
			return names, true
		case "monitoring-state":
			return one(orDefault(in.Monitoring, "disabled"))
		}
		return tagFilter(in.Tags, name)
	}
}

// reservations groups rendered instances by reservation, in order.
func reservations(rs *RegionState, insts []*Instance, owner string) set[xReservation] {
	out := set[xReservation]{}
	idx := map[string]int{}
	atts := rs.attachmentsByInstance()
	for _, in := range insts {
		rid := orDefault(in.ReservationID, "r-"+in.ID[2:])
		i, ok := idx[rid]
		if !ok {
			i = len(out)
			idx[rid] = i
			out = append(out, xReservation{ReservationID: rid, OwnerID: owner, Groups: set[xGroupIdentifier]{},
				Instances: set[xInstance]{}})
		}
		out[i].Instances = append(out[i].Instances, in.view(rs, atts[in.ID]))
	}
	return out
}

func (e *ec2API) describeInstances(r *Request, p params) (any, error) {
	ids, err := idList(p, "InstanceId", "i", "InvalidInstanceID.Malformed")
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "instancesSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var page []string
	var next string
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if rs.Instances[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, errInstanceNotFound(missing...)
		}
		page = ids
	} else {
		page, next = pg.window(sortedIDs(rs.Instances, &rs.instIDs))
	}
	var insts []*Instance
	for _, id := range page {
		in := rs.Instances[id]
		ok, err := matchFilters(filters, in.filter(rs))
		if err != nil {
			return nil, err
		}
		if ok {
			insts = append(insts, in)
		}
	}
	return struct {
		Reservations set[xReservation] `xml:"reservationSet"`
		NextToken    string            `xml:"nextToken,omitempty"`
	}{Reservations: reservations(rs, insts, r.Account), NextToken: next}, nil
}

func (e *ec2API) instance(rs *RegionState, id string) (*Instance, error) {
	in := rs.Instances[id]
	if in == nil {
		return nil, errInstanceNotFound(id)
	}
	return in, nil
}

func (e *ec2API) modifyInstanceMetadataOptions(r *Request, p params) (any, error) {
	id, err := p.require("InstanceId")
	if err != nil {
		return nil, err
	}
	tokens, endpoint, tagsOpt := p.get("HttpTokens"), p.get("HttpEndpoint"), p.get("InstanceMetadataTags")
	if tokens != "" && tokens != "optional" && tokens != "required" {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%s' for HttpTokens", tokens)
	}
	if endpoint != "" && endpoint != "enabled" && endpoint != "disabled" {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%s' for HttpEndpoint", endpoint)
	}
	if tagsOpt != "" && tagsOpt != "enabled" && tagsOpt != "disabled" {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%s' for InstanceMetadataTags", tagsOpt)
	}
	hop, hasHop, err := p.int("HttpPutResponseHopLimit")
	if err != nil {
		return nil, err
	}
	if hasHop && (hop < 1 || hop > 64) {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%d' for HttpPutResponseHopLimit", hop)
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.instance(rs, id)
	if err != nil {
		return nil, err
	}
	if in.State == "terminated" || in.State == "shutting-down" {
		return nil, apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
	}
	if tokens != "" {
		in.HTTPTokens = tokens
	}
	if endpoint != "" {
		in.HTTPEndpoint = endpoint
	}
	if tagsOpt != "" {
		in.MetadataTags = tagsOpt
	}
	if hasHop {
		in.HTTPHopLimit = hop
	}
	now := e.sim.Now()
	in.metadataSettledAt = e.settleAt(now)
	view := in.metadataView()
	rs.later(in.metadataSettledAt, func() { in.metadataSettledAt = time.Time{} })
	return struct {
		InstanceID string           `xml:"instanceId"`
		Options    xMetadataOptions `xml:"instanceMetadataOptions"`
	}{InstanceID: id, Options: view}, nil
}

// changeStates moves instances through stopping/stopped or
// shutting-down/terminated.
func (e *ec2API) changeStates(r *Request, p params, via, final, verb string) (any, error) {
	ids := p.list("InstanceId")
	if len(ids) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter InstanceId")
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var missing []string
	for _, id := range ids {
		if rs.Instances[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, errInstanceNotFound(missing...)
	}
	if final == "stopped" {
		for _, id := range ids {
			if st := rs.Instances[id].State; st == "terminated" || st == "shutting-down" {
				return nil, apiErr("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be %s.", id, verb)
			}
		}
	}
	now := e.sim.Now()
	out := struct {
		Changes set[xInstanceStateChange] `xml:"instancesSet"`
	}{}
	for _, id := range ids {
		in := rs.Instances[id]
		prev := in.State
		if prev != final && prev != via && !(final == "stopped" && prev == "stopped") {
			in.State = via
			if final == "stopped" {
				in.StateTransitionReason = fmt.Sprintf("User initiated (%s)", now.Format("2006-01-02 15:04:05 MST"))
			}
			inst := in
			rs.later(e.settleAt(now), func() {
				if inst.State != via {
					return
				}
				inst.State = final
				if final == "terminated" {
					rs.releaseVolumesOf(inst.ID)
				}
			})
		}
		out.Changes = append(out.Changes, xInstanceStateChange{InstanceID: id, CurrentState: stateOf(in.State), PreviousState: stateOf(prev)})
	}
	return out, nil
}

// releaseVolumesOf detaches the volumes of a terminated instance and
// deletes those marked DeleteOnTermination.
func (rs *RegionState) releaseVolumesOf(instanceID string) {
	for id, v := range rs.Volumes {
		kept := v.Attachments[:0]
		del := false
		for _, a := range v.Attachments {
			if a.InstanceID == instanceID {
				del = del || a.DeleteOnTermination
				continue
			}
			kept = append(kept, a)
		}
		v.Attachments = kept
		if del {
			delete(rs.Volumes, id)
			rs.Changed()
		} else if len(kept) == 0 && v.State == "in-use" {
			v.State = "available"
		}
	}
}

func (e *ec2API) stopInstances(r *Request, p params) (any, error) {
	return e.changeStates(r, p, "stopping", "stopped", "stopped")
}

func (e *ec2API) terminateInstances(r *Request, p params) (any, error) {
	return e.changeStates(r, p, "shutting-down", "terminated", "terminated")
}

func (e *ec2API) modifyInstanceAttribute(r *Request, p params) (any, error) {
	id, err := p.require("InstanceId")
	if err != nil {
		return nil, err
	}
	groups := p.list("GroupId")
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.instance(rs, id)
	if err != nil {
		return nil, err
	}
	switch {
	case len(groups) > 0:
		for _, g := range groups {
			if rs.SecurityGroups[g] == nil {
				return nil, errGroupNotFound(g)
			}
		}
		if in.State == "terminated" {
			return nil, apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
		}
		in.SecurityGroupIDs = append([]string(nil), groups...)
	case p.has("InstanceType.Value"):
		if in.State != "stopped" {
			return nil, apiErr("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
		}
		in.InstanceType = p.get("InstanceType.Value")
	default:
		return nil, apiErr("UnsupportedOperation", "The sim supports ModifyInstanceAttribute with GroupId or InstanceType only.")
	}
	return returnTrue{Return: true}, nil
}

func (e *ec2API) runInstances(r *Request, p params) (any, error) {
	image, err := p.require("ImageId")
	if err != nil {
		return nil, err
	}
	minN, _, err := p.int("MinCount")
	if err != nil {
		return nil, err
	}
	maxN, _, err := p.int("MaxCount")
	if err != nil {
		return nil, err
	}
	if minN < 1 || maxN < minN {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%d' for minCount. Must be greater than or equal to 1 and less than or equal to maxCount", minN)
	}
	if maxN > 100 {
		maxN = 100
	}
	groups := p.list("SecurityGroupId")
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, g := range groups {
		if rs.SecurityGroups[g] == nil {
			return nil, errGroupNotFound(g)
		}
	}
	now := e.sim.Now()
	rid := e.sim.newID("r")
	tags := tagSpecs(p, "instance")
	var insts []*Instance
	for i := 0; i < maxN; i++ {
		n := e.sim.nextID()
		in := &Instance{ID: e.sim.newID("i"), ImageID: image, InstanceType: orDefault(p.get("InstanceType"), "m1.small"),
			State: "pending", LaunchTime: now, KeyName: p.get("KeyName"), AvailabilityZone: orDefault(p.get("Placement.AvailabilityZone"), r.Region+"a"),
			SubnetID: p.get("SubnetId"), PrivateIP: fmt.Sprintf("10.0.%d.%d", (n>>8)&0xff, n&0xff),
			HTTPTokens: orDefault(p.get("MetadataOptions.HttpTokens"), orDefault(rs.IMDSDefaults.HTTPTokens, "optional")), SecurityGroupIDs: groups,
			ReservationID: rid, Tags: tags.clone()}
		rs.Instances[in.ID] = in
		insts = append(insts, in)
		inst := in
		rs.later(e.settleAt(now), func() {
			if inst.State == "pending" {
				inst.State = "running"
			}
		})
	}
	rs.Changed()
	res := reservations(rs, insts, r.Account)[0]
	return res, nil
}
