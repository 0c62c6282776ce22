package awssim

import "strings"

// ExtendEC2Volumes adds EC2's CreateVolume to the sim, so that tests and
// the demo can create volumes through the API as on any AWS-compatible
// endpoint, not only seed them. It is idempotent and safe while the sim
// serves (the EC2 service is replaced whole).
//
// CreateVolume follows EC2: AvailabilityZone (in the request's region)
// and Size or SnapshotId are required; VolumeType defaults to gp2; sizes,
// IOPS and throughput are checked per volume type; io1 and io2 need Iops;
// gp3 defaults to 3000 IOPS and 125 MiB/s, gp2 gets 3 IOPS per GiB (100 to
// 16000); a volume from a snapshot is at least the snapshot's size and
// encrypted when it is; TagSpecification tags of type volume apply; a
// ClientToken returns the volume it created before. The volume is
// "creating" and becomes "available" after Options.SettleDelay.
func (s *Sim) ExtendEC2Volumes() {
	s.mu.RLock()
	base, _ := s.services["ec2"].(*queryService)
	s.mu.RUnlock()
	if base == nil {
		return
	}
	if _, ok := base.actions["CreateVolume"]; ok {
		return
	}
	actions := make(map[string]queryHandler, len(base.actions)+1)
	for k, v := range base.actions {
		actions[k] = v
	}
	e := &ec2API{sim: s}
	actions["CreateVolume"] = dryRunAware(e.createVolume)
	s.Register(&queryService{name: base.name, xmlns: base.xmlns, ec2: base.ec2, actions: actions})
}

// volumeLimits are EC2's size (GiB) and IOPS bounds per volume type.
var volumeLimits = map[string]struct{ minSize, maxSize, minIops, maxIops int }{
	"gp2":      {1, 16384, 0, 0},
	"gp3":      {1, 16384, 3000, 16000},
	"io1":      {4, 16384, 100, 64000},
	"io2":      {4, 65536, 100, 256000},
	"st1":      {125, 16384, 0, 0},
	"sc1":      {125, 16384, 0, 0},
	"standard": {1, 1024, 0, 0},
}

// clientTokensKey keeps CreateVolume's client tokens in RegionState.Ext.
const clientTokensKey = "ec2.CreateVolume.ClientToken"

func (e *ec2API) createVolume(r *Request, p params) (any, error) {
	az, err := p.require("AvailabilityZone")
	if err != nil {
		return nil, err
	}
	size, hasSize, err := p.int("Size")
	if err != nil {
		return nil, err
	}
	snapID := p.get("SnapshotId")
	if !hasSize && snapID == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	typ := p.get("VolumeType")
	if typ == "" {
		typ = "gp2"
	}
	lim, ok := volumeLimits[typ]
	if !ok {
		return nil, apiErr("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid. Valid volume types are: standard, io1, io2, gp2, gp3, sc1, st1", typ)
	}
	iops, hasIops, err := p.int("Iops")
	if err != nil {
		return nil, err
	}
	throughput, hasThroughput, err := p.int("Throughput")
	if err != nil {
		return nil, err
	}
	switch {
	case hasIops && lim.maxIops == 0:
		return nil, apiErr("InvalidParameterCombination", "The parameter iops is not supported for %s volumes.", typ)
	case !hasIops && (typ == "io1" || typ == "io2"):
		return nil, apiErr("MissingParameter", "The request must contain the parameter iops")
	case hasThroughput && typ != "gp3":
		return nil, apiErr("InvalidParameterCombination", "The parameter throughput is not supported for %s volumes.", typ)
	case hasIops && iops < lim.minIops:
		return nil, apiErr("InvalidParameterValue", "Volume iops of %d is too low; minimum is %d.", iops, lim.minIops)
	case hasIops && iops > lim.maxIops:
		return nil, apiErr("InvalidParameterValue", "Volume iops of %d is too high; maximum is %d.", iops, lim.maxIops)
	case hasThroughput && (throughput < 125 || throughput > 1000):
		return nil, apiErr("InvalidParameterValue", "Volume throughput of %d is invalid; it must be between 125 and 1000 MiB/s.", throughput)
	}

	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !strings.HasPrefix(az, r.Region) || len(az) != len(r.Region)+1 {
		return nil, apiErr("InvalidParameterValue", "Invalid availability zone: [%s]", az)
	}
	tokens, _ := rs.Ext[clientTokensKey].(map[string]string)
	if tok := p.get("ClientToken"); tok != "" {
		if id, ok := tokens[tok]; ok {
			if v := rs.Volumes[id]; v != nil {
				return v.view(), nil
			}
		}
	}
	encrypted := p.bool("Encrypted")
	if snapID != "" {
		sn := rs.Snapshots[snapID]
		if sn == nil {
			return nil, errSnapshotNotFound(snapID)
		}
		if !hasSize {
			size = sn.VolumeSize
		}
		if size < sn.VolumeSize {
			return nil, apiErr("InvalidParameterValue", "Volume of size %d is smaller than snapshot '%s', expect size >= %d", size, snapID, sn.VolumeSize)
		}
		encrypted = encrypted || sn.Encrypted
	}
	if size < lim.minSize {
		return nil, apiErr("InvalidParameterValue", "Volume of %dGiB is too small; minimum is %dGiB.", size, lim.minSize)
	}
	if size > lim.maxSize {
		return nil, apiErr("InvalidParameterValue", "Volume of %dGiB is too large for volume type %s; maximum is %dGiB.", size, typ, lim.maxSize)
	}
	switch {
	case typ == "gp3" && !hasIops:
		iops = 3000
	case typ == "gp2":
		iops = min(16000, max(100, 3*size))
	}
	if typ == "gp3" && !hasThroughput {
		throughput = 125
	}
	now := e.sim.Now()
	v := &Volume{ID: e.sim.newID("vol"), Size: size, State: "creating", VolumeType: typ, Iops: iops, Throughput: throughput,
		Encrypted: encrypted, SnapshotID: snapID, AvailabilityZone: az, CreateTime: now, Tags: tagSpecs(p, "volume")}
	rs.Volumes[v.ID] = v
	if tok := p.get("ClientToken"); tok != "" {
		if tokens == nil {
			tokens = map[string]string{}
			rs.Ext[clientTokensKey] = tokens
		}
		tokens[tok] = v.ID
	}
	rs.Changed()
	rs.later(e.settleAt(now), func() {
		if v.State == "creating" {
			v.State = "available"
		}
	})
	return v.view(), nil
}
