package awssim

import (
	"strconv"
)

func (v *Volume) view() xVolume {
	x := xVolume{
		VolumeID: v.ID, Size: v.Size, SnapshotID: v.SnapshotID, AvailabilityZone: v.AvailabilityZone,
		Status: v.State, CreateTime: isoTime(v.CreateTime), VolumeType: v.VolumeType, Iops: v.Iops,
		Throughput: v.Throughput, Encrypted: v.Encrypted, Tags: xTags(v.Tags), Attachments: set[xVolumeAttachment]{},
	}
	for _, a := range v.Attachments {
		x.Attachments = append(x.Attachments, a.view(v.ID))
	}
	return x
}

func (a VolumeAttachment) view(volumeID string) xVolumeAttachment {
	return xVolumeAttachment{VolumeID: volumeID, InstanceID: a.InstanceID, Device: a.Device, Status: a.State,
		AttachTime: isoTime(a.AttachTime), DeleteOnTermination: a.DeleteOnTermination}
}

func (v *Volume) filter(name string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	each := func(f func(VolumeAttachment) string) ([]string, bool) {
		out := make([]string, 0, len(v.Attachments))
		for _, a := range v.Attachments {
			out = append(out, f(a))
		}
		return out, true
	}
	switch name {
	case "status":
		return one(v.State)
	case "volume-id":
		return one(v.ID)
	case "size":
		return one(strconv.Itoa(v.Size))
	case "volume-type":
		return one(v.VolumeType)
	case "availability-zone":
		return one(v.AvailabilityZone)
	case "create-time":
		return one(isoTime(v.CreateTime))
	case "encrypted":
		return one(boolStr(v.Encrypted))
	case "snapshot-id":
		return one(v.SnapshotID)
	case "multi-attach-enabled":
		return one("false")
	case "attachment.instance-id":
		return each(func(a VolumeAttachment) string { return a.InstanceID })
	case "attachment.device":
		return each(func(a VolumeAttachment) string { return a.Device })
	case "attachment.status":
		return each(func(a VolumeAttachment) string { return a.State })
	case "attachment.attach-time":
		return each(func(a VolumeAttachment) string { return isoTime(a.AttachTime) })
	case "attachment.delete-on-termination":
		return each(func(a VolumeAttachment) string { return boolStr(a.DeleteOnTermination) })
	}
	return tagFilter(v.Tags, name)
}

func (e *ec2API) describeVolumes(r *Request, p params) (any, error) {
	ids, err := idList(p, "VolumeId", "vol", "InvalidVolumeID.Malformed")
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "volumeSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := struct {
		Volumes   set[xVolume] `xml:"volumeSet"`
		NextToken string       `xml:"nextToken,omitempty"`
	}{Volumes: set[xVolume]{}}
	var page []string
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if rs.Volumes[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, errVolumeNotFound(missing...)
		}
		page = ids
	} else {
		page, out.NextToken = pg.window(sortedIDs(rs.Volumes, &rs.volIDs))
	}
	for _, id := range page {
		v := rs.Volumes[id]
		ok, err := matchFilters(filters, v.filter)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Volumes = append(out.Volumes, v.view())
		}
	}
	return out, nil
}

func (e *ec2API) volume(rs *RegionState, p params) (*Volume, error) {
	id, err := p.require("VolumeId")
	if err != nil {
		return nil, err
	}
	v := rs.Volumes[id]
	if v == nil {
		return nil, errVolumeNotFound(id)
	}
	return v, nil
}

func (e *ec2API) deleteVolume(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := e.volume(rs, p)
	if err != nil {
		return nil, err
	}
	if len(v.Attachments) > 0 {
		return nil, apiErr("VolumeInUse", "Volume %s is currently attached to %s", v.ID, v.Attachments[0].InstanceID)
	}
	if v.State == "deleting" {
		return returnTrue{Return: true}, nil
	}
	if v.State != "available" && v.State != "error" {
		return nil, apiErr("IncorrectState", "The volume '%s' is '%s'.", v.ID, v.State)
	}
	v.State = "deleting"
	id := v.ID
	rs.later(e.settleAt(e.sim.Now()), func() {
		if cur := rs.Volumes[id]; cur == v {
			delete(rs.Volumes, id)
			rs.Changed()
		}
	})
	return returnTrue{Return: true}, nil
}

func (e *ec2API) detachVolume(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := e.volume(rs, p)
	if err != nil {
		return nil, err
	}
	inst := p.get("InstanceId")
	if inst != "" && rs.Instances[inst] == nil {
		return nil, errInstanceNotFound(inst)
	}
	idx := -1
	for i, a := range v.Attachments {
		if inst == "" || a.InstanceID == inst {
			idx = i
			break
		}
	}
	if idx < 0 {
		if inst != "" && len(v.Attachments) > 0 {
			return nil, apiErr("IncorrectState", "Volume '%s' is not attached to instance '%s'.", v.ID, inst)
		}
		return nil, apiErr("IncorrectState", "Volume '%s' is in the '%s' state.", v.ID, v.State)
	}
	if dev := p.get("Device"); dev != "" && dev != v.Attachments[idx].Device {
		return nil, apiErr("InvalidAttachment.NotFound", "Volume '%s' is not attached to device '%s'.", v.ID, dev)
	}
	a := &v.Attachments[idx]
	if a.State != "detaching" {
		a.State = "detaching"
		instID := a.InstanceID
		rs.later(e.settleAt(e.sim.Now()), func() {
			kept := v.Attachments[:0]
			for _, x := range v.Attachments {
				if x.InstanceID != instID {
					kept = append(kept, x)
				}
			}
			v.Attachments = kept
			if len(kept) == 0 && v.State == "in-use" {
				v.State = "available"
			}
		})
	}
	return a.view(v.ID), nil
}

func (e *ec2API) attachVolume(r *Request, p params) (any, error) {
	instID, err := p.require("InstanceId")
	if err != nil {
		return nil, err
	}
	dev, err := p.require("Device")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := e.volume(rs, p)
	if err != nil {
		return nil, err
	}
	inst := rs.Instances[instID]
	if inst == nil {
		return nil, errInstanceNotFound(instID)
	}
	if v.State != "available" {
		if len(v.Attachments) > 0 {
			return nil, apiErr("VolumeInUse", "%s is already attached to an instance", v.ID)
		}
		return nil, apiErr("IncorrectState", "vol '%s' is not 'available'.", v.ID)
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, apiErr("IncorrectInstanceState", "Instance '%s' is not 'running' or 'stopped'.", instID)
	}
	if v.AvailabilityZone != "" && inst.AvailabilityZone != "" && v.AvailabilityZone != inst.AvailabilityZone {
		return nil, apiErr("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", v.ID, instID)
	}
	for _, other := range rs.Volumes {
		for _, a := range other.Attachments {
			if a.InstanceID == instID && a.Device == dev {
				return nil, apiErr("InvalidParameterValue", "Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
			}
		}
	}
	now := e.sim.Now()
	v.Attachments = append(v.Attachments, VolumeAttachment{InstanceID: instID, Device: dev, State: "attaching", AttachTime: now})
	v.State = "in-use"
	view := v.Attachments[len(v.Attachments)-1].view(v.ID)
	rs.later(e.settleAt(now), func() {
		for i := range v.Attachments {
			if v.Attachments[i].InstanceID == instID && v.Attachments[i].State == "attaching" {
				v.Attachments[i].State = "attached"
			}
		}
	})
	return view, nil
}

func (s *Snapshot) view(owner string) xSnapshot {
	return xSnapshot{SnapshotID: s.ID, VolumeID: s.VolumeID, Status: s.State, StartTime: isoTime(s.StartTime),
		Progress: s.Progress, OwnerID: owner, VolumeSize: s.VolumeSize, Description: s.Description,
		Encrypted: s.Encrypted, StorageTier: s.StorageTier, Tags: xTags(s.Tags)}
}

func (s *Snapshot) filter(owner string) filterFunc {
	return func(name string) ([]string, bool) {
		one := func(v string) ([]string, bool) { return []string{v}, true }
		switch name {
		case "status":
			return one(s.State)
		case "snapshot-id":
			return one(s.ID)
		case "volume-id":
			return one(s.VolumeID)
		case "volume-size":
			return one(strconv.Itoa(s.VolumeSize))
		case "owner-id":
			return one(owner)
		case "description":
			return one(s.Description)
		case "start-time":
			return one(isoTime(s.StartTime))
		case "progress":
			return one(s.Progress)
		case "encrypted":
			return one(boolStr(s.Encrypted))
		case "storage-tier":
			return one(s.StorageTier)
		}
		return tagFilter(s.Tags, name)
	}
}

func (e *ec2API) createSnapshot(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := e.volume(rs, p)
	if err != nil {
		return nil, err
	}
	if v.State == "deleting" || v.State == "deleted" {
		return nil, apiErr("IncorrectState", "The volume '%s' is '%s'.", v.ID, v.State)
	}
	now := e.sim.Now()
	snap := &Snapshot{ID: e.sim.newID("snap"), VolumeID: v.ID, VolumeSize: v.Size, State: "pending", Progress: "",
		Description: p.get("Description"), StartTime: now, Encrypted: v.Encrypted, StorageTier: "standard",
		Tags: tagSpecs(p, "snapshot")}
	rs.Snapshots[snap.ID] = snap
	rs.Changed()
	rs.later(e.settleAt(now), func() {
		if snap.State == "pending" {
			snap.State, snap.Progress = "completed", "100%"
		}
	})
	return snap.view(r.Account), nil
}

func (e *ec2API) describeSnapshots(r *Request, p params) (any, error) {
	ids, err := idList(p, "SnapshotId", "snap", "InvalidSnapshotID.Malformed")
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "snapshotSet")
	if err != nil {
		return nil, err
	}
	owners := p.list("Owner")
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, o := range owners {
		if o != "self" && o != r.Account {
			// Snapshots shared by other accounts are not modelled.
			return struct {
				Snapshots set[xSnapshot] `xml:"snapshotSet"`
			}{Snapshots: set[xSnapshot]{}}, nil
		}
	}
	out := struct {
		Snapshots set[xSnapshot] `xml:"snapshotSet"`
		NextToken string         `xml:"nextToken,omitempty"`
	}{Snapshots: set[xSnapshot]{}}
	var page []string
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if rs.Snapshots[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, errSnapshotNotFound(missing...)
		}
		page = ids
	} else {
		page, out.NextToken = pg.window(sortedIDs(rs.Snapshots, &rs.snapIDs))
	}
	for _, id := range page {
		s := rs.Snapshots[id]
		ok, err := matchFilters(filters, s.filter(r.Account))
		if err != nil {
			return nil, err
		}
		if ok {
			out.Snapshots = append(out.Snapshots, s.view(r.Account))
		}
	}
	return out, nil
}

func (e *ec2API) deleteSnapshot(r *Request, p params) (any, error) {
	id, err := p.require("SnapshotId")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if rs.Snapshots[id] == nil {
		return nil, errSnapshotNotFound(id)
	}
	delete(rs.Snapshots, id)
	rs.Changed()
	return returnTrue{Return: true}, nil
}
