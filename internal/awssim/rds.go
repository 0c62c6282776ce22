package awssim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

const rdsNamespace = "http://rds.amazonaws.com/doc/2014-10-31/"

// rdsAPI serves Amazon RDS DB instances and snapshots (awsquery).
type rdsAPI struct{ sim *Sim }

func newRDS(s *Sim) *queryService {
	a := &rdsAPI{sim: s}
	h := map[string]func(*RegionState, *Request, params) (any, error){
		"DescribeDBInstances": a.describeDBInstances,
		"DeleteDBInstance":    a.deleteDBInstance,
		"DescribeDBSnapshots": a.describeDBSnapshots,
		"DeleteDBSnapshot":    a.deleteDBSnapshot,
		"CreateDBSnapshot":    a.createDBSnapshot,
		"ListTagsForResource": a.listTagsForResource,
		"AddTagsToResource":   a.addTagsToResource,
		"ModifyDBInstance":    a.modifyDBInstance,
	}
	actions := map[string]queryHandler{}
	for name, fn := range h {
		fn := fn
		actions[name] = func(r *Request, p params) (any, error) {
			rs, unlock, err := s.lockedRegion(r)
			if err != nil {
				return nil, err
			}
			defer unlock()
			return fn(rs, r, p)
		}
	}
	return &queryService{name: "rds", xmlns: rdsNamespace, actions: actions}
}

func (s *Sim) addRDSResources(rs *RegionState, res Resources, now time.Time) {
	for i := range res.DBInstances {
		db := res.DBInstances[i]
		if db.ID == "" {
			db.ID = fmt.Sprintf("database-%d", s.nextID())
		}
		db.Class = orDefault(db.Class, "db.t3.micro")
		db.Engine = orDefault(db.Engine, "mysql")
		db.EngineVersion = orDefault(db.EngineVersion, "8.0.35")
		db.Status = orDefault(db.Status, "available")
		db.AllocatedStorage = orInt(db.AllocatedStorage, 20)
		db.StorageType = orDefault(db.StorageType, "gp2")
		db.MasterUsername = orDefault(db.MasterUsername, "admin")
		db.AvailabilityZone = orDefault(db.AvailabilityZone, rs.Region+"a")
		db.Port = orInt(db.Port, 3306)
		if db.CreateTime.IsZero() {
			db.CreateTime = now
		}
		db.Tags = db.Tags.clone()
		db.LogExports = append([]string(nil), db.LogExports...)
		rs.DBInstances[db.ID] = &db
	}
	for i := range res.DBSnapshots {
		sn := res.DBSnapshots[i]
		if sn.ID == "" {
			sn.ID = fmt.Sprintf("snapshot-%d", s.nextID())
		}
		sn.Status = orDefault(sn.Status, "available")
		sn.SnapshotType = orDefault(sn.SnapshotType, "manual")
		sn.Engine = orDefault(sn.Engine, "mysql")
		sn.EngineVersion = orDefault(sn.EngineVersion, "8.0.35")
		sn.AllocatedStorage = orInt(sn.AllocatedStorage, 20)
		if sn.CreateTime.IsZero() {
			sn.CreateTime = now
		}
		sn.Tags = sn.Tags.clone()
		rs.DBSnapshots[sn.ID] = &sn
	}
}

func rdsNotFound(code, format string, args ...any) *APIError {
	e := apiErr(code, format, args...)
	e.Status = http.StatusNotFound
	return e
}

func (a *rdsAPI) dbARN(rs *RegionState, id string) string {
	return a.sim.arn("rds", rs.Region, rs.Account, "db:"+id)
}

func (a *rdsAPI) snapARN(rs *RegionState, id string) string {
	return a.sim.arn("rds", rs.Region, rs.Account, "snapshot:"+id)
}

type xRDSTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func rdsTags(ts Tags) listOf[xRDSTag] {
	l := newList[xRDSTag]("Tag")
	for _, t := range ts {
		l.add(xRDSTag(t))
	}
	return l
}

type xEndpoint struct {
	Address      string `xml:"Address"`
	Port         int    `xml:"Port"`
	HostedZoneID string `xml:"HostedZoneId"`
}

type xDBInstance struct {
	DBInstanceIdentifier         string          `xml:"DBInstanceIdentifier"`
	DBInstanceClass              string          `xml:"DBInstanceClass"`
	Engine                       string          `xml:"Engine"`
	DBInstanceStatus             string          `xml:"DBInstanceStatus"`
	MasterUsername               string          `xml:"MasterUsername"`
	DBName                       string          `xml:"DBName,omitempty"`
	Endpoint                     *xEndpoint      `xml:"Endpoint,omitempty"`
	AllocatedStorage             int             `xml:"AllocatedStorage"`
	InstanceCreateTime           string          `xml:"InstanceCreateTime"`
	PreferredBackupWindow        string          `xml:"PreferredBackupWindow"`
	BackupRetentionPeriod        int             `xml:"BackupRetentionPeriod"`
	AvailabilityZone             string          `xml:"AvailabilityZone"`
	PreferredMaintenanceWindow   string          `xml:"PreferredMaintenanceWindow"`
	MultiAZ                      bool            `xml:"MultiAZ"`
	EngineVersion                string          `xml:"EngineVersion"`
	AutoMinorVersionUpgrade      bool            `xml:"AutoMinorVersionUpgrade"`
	LicenseModel                 string          `xml:"LicenseModel"`
	PubliclyAccessible           bool            `xml:"PubliclyAccessible"`
	StorageType                  string          `xml:"StorageType"`
	DbInstancePort               int             `xml:"DbInstancePort"`
	StorageEncrypted             bool            `xml:"StorageEncrypted"`
	DbiResourceID                string          `xml:"DbiResourceId"`
	CopyTagsToSnapshot           bool            `xml:"CopyTagsToSnapshot"`
	DBInstanceArn                string          `xml:"DBInstanceArn"`
	IAMDatabaseAuthEnabled       bool            `xml:"IAMDatabaseAuthenticationEnabled"`
	DeletionProtection           bool            `xml:"DeletionProtection"`
	EnabledCloudwatchLogsExports members[string] `xml:"EnabledCloudwatchLogsExports"`
	TagList                      listOf[xRDSTag] `xml:"TagList"`
}

func (a *rdsAPI) dbView(rs *RegionState, db *DBInstance) xDBInstance {
	x := xDBInstance{DBInstanceIdentifier: db.ID, DBInstanceClass: db.Class, Engine: db.Engine, DBInstanceStatus: db.Status,
		MasterUsername: db.MasterUsername, DBName: db.DBName, AllocatedStorage: db.AllocatedStorage,
		InstanceCreateTime: isoTime(db.CreateTime), PreferredBackupWindow: "03:00-03:30", BackupRetentionPeriod: 7,
		AvailabilityZone: db.AvailabilityZone, PreferredMaintenanceWindow: "sun:05:00-sun:05:30", MultiAZ: db.MultiAZ,
		EngineVersion: db.EngineVersion, AutoMinorVersionUpgrade: true, LicenseModel: "general-public-license",
		PubliclyAccessible: db.PubliclyAccessible, StorageType: db.StorageType, StorageEncrypted: db.StorageEncrypted,
		DbiResourceID: fmt.Sprintf("db-%026X", hashString(rs.Account+db.ID)), DBInstanceArn: a.dbARN(rs, db.ID),
		EnabledCloudwatchLogsExports: members[string](append([]string{}, db.LogExports...)), TagList: rdsTags(db.Tags)}
	if db.Status != "creating" {
		x.Endpoint = &xEndpoint{Address: fmt.Sprintf("%s.c%010x.%s.rds.amazonaws.com", db.ID, hashString(rs.Account)%0xffffffffff, rs.Region),
			Port: db.Port, HostedZoneID: "Z2R2ITUGPM61AM"}
	}
	return x
}

// rdsFilters reads Filters.Filter.N.Name / .Values.Value.M.
func rdsFilters(p params) map[string][]string {
	out := map[string][]string{}
	for _, g := range p.indexed("Filters.Filter") {
		out[g["Name"]] = append(out[g["Name"]], g.sub("Values").list("Value")...)
	}
	return out
}

// rdsPage pages sorted keys with Marker/MaxRecords (20..100, default 100).
func rdsPage(p params, keys []string) ([]string, string, error) {
	size := 100
	if n, ok, err := p.int("MaxRecords"); err != nil {
		return nil, "", err
	} else if ok {
		if n < 20 || n > 100 {
			return nil, "", apiErr("InvalidParameterValue", "Invalid value %d for MaxRecords. Must be between 20 and 100", n)
		}
		size = n
	}
	start := 0
	if m := p.get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || !strings.HasPrefix(string(raw), "m:") {
			return nil, "", apiErr("InvalidParameterValue", "Invalid marker: %s", m)
		}
		after := string(raw[2:])
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	if start+size >= len(keys) {
		return keys[start:], "", nil
	}
	page := keys[start : start+size]
	return page, base64.RawURLEncoding.EncodeToString([]byte("m:" + page[len(page)-1])), nil
}

func (a *rdsAPI) describeDBInstances(rs *RegionState, _ *Request, p params) (any, error) {
	id := p.get("DBInstanceIdentifier")
	if strings.HasPrefix(id, "arn:") {
		id = id[strings.LastIndex(id, ":")+1:]
	}
	filters := rdsFilters(p)
	var keys []string
	if id != "" {
		if rs.DBInstances[id] == nil {
			return nil, rdsNotFound("DBInstanceNotFound", "DBInstance %s not found.", id)
		}
		keys = []string{id}
	} else {
		for _, k := range sortedKeys(rs.DBInstances) {
			db := rs.DBInstances[k]
			ok := true
			for name, vals := range filters {
				switch name {
				case "db-instance-id":
					ok = ok && (contains(vals, db.ID) || contains(vals, a.dbARN(rs, db.ID)))
				case "engine":
					ok = ok && contains(vals, db.Engine)
				default:
					return nil, apiErr("InvalidParameterValue", "Unrecognized filter name: %s", name)
				}
			}
			if ok {
				keys = append(keys, k)
			}
		}
	}
	page, next, err := rdsPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		DBInstances listOf[xDBInstance] `xml:"DBInstances"`
		Marker      string              `xml:"Marker,omitempty"`
	}{DBInstances: newList[xDBInstance]("DBInstance"), Marker: next}
	for _, k := range page {
		out.DBInstances.add(a.dbView(rs, rs.DBInstances[k]))
	}
	return out, nil
}

type xDBSnapshot struct {
	DBSnapshotIdentifier string          `xml:"DBSnapshotIdentifier"`
	DBInstanceIdentifier string          `xml:"DBInstanceIdentifier"`
	SnapshotCreateTime   string          `xml:"SnapshotCreateTime,omitempty"`
	Engine               string          `xml:"Engine"`
	AllocatedStorage     int             `xml:"AllocatedStorage"`
	Status               string          `xml:"Status"`
	Port                 int             `xml:"Port"`
	AvailabilityZone     string          `xml:"AvailabilityZone"`
	InstanceCreateTime   string          `xml:"InstanceCreateTime"`
	MasterUsername       string          `xml:"MasterUsername"`
	EngineVersion        string          `xml:"EngineVersion"`
	LicenseModel         string          `xml:"LicenseModel"`
	SnapshotType         string          `xml:"SnapshotType"`
	PercentProgress      int             `xml:"PercentProgress"`
	StorageType          string          `xml:"StorageType"`
	Encrypted            bool            `xml:"Encrypted"`
	DBSnapshotArn        string          `xml:"DBSnapshotArn"`
	TagList              listOf[xRDSTag] `xml:"TagList"`
}

func (a *rdsAPI) snapView(rs *RegionState, sn *DBSnapshot) xDBSnapshot {
	x := xDBSnapshot{DBSnapshotIdentifier: sn.ID, DBInstanceIdentifier: sn.DBInstanceID, Engine: sn.Engine,
		AllocatedStorage: sn.AllocatedStorage, Status: sn.Status, Port: 3306, AvailabilityZone: rs.Region + "a",
		InstanceCreateTime: isoTime(sn.CreateTime), MasterUsername: "admin", EngineVersion: sn.EngineVersion,
		LicenseModel: "general-public-license", SnapshotType: sn.SnapshotType, PercentProgress: 100, StorageType: "gp2",
		DBSnapshotArn: a.snapARN(rs, sn.ID), TagList: rdsTags(sn.Tags)}
	if sn.Status == "creating" {
		x.PercentProgress = 0
	} else {
		x.SnapshotCreateTime = isoTime(sn.CreateTime)
	}
	return x
}

func (a *rdsAPI) newSnapshot(rs *RegionState, id string, db *DBInstance, typ string, tags Tags) *DBSnapshot {
	now := a.sim.Now()
	sn := &DBSnapshot{ID: id, DBInstanceID: db.ID, Status: "creating", SnapshotType: typ, Engine: db.Engine,
		EngineVersion: db.EngineVersion, AllocatedStorage: db.AllocatedStorage, CreateTime: now, Tags: tags}
	rs.DBSnapshots[id] = sn
	rs.later(now.Add(a.sim.opts.SettleDelay), func() {
		if sn.Status == "creating" {
			sn.Status = "available"
		}
	})
	return sn
}

func readRDSTags(p params) []Tag {
	return readTags(p.sub("Tags"), "Tag")
}

func (a *rdsAPI) deleteDBInstance(rs *RegionState, _ *Request, p params) (any, error) {
	id, err := p.require("DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	db := rs.DBInstances[id]
	if db == nil {
		return nil, rdsNotFound("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	skip := p.bool("SkipFinalSnapshot")
	final := p.get("FinalDBSnapshotIdentifier")
	if !skip && final == "" {
		return nil, apiErr("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	}
	if skip && final != "" {
		return nil, apiErr("InvalidParameterCombination", "Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.")
	}
	if db.Status == "deleting" {
		return nil, apiErr("InvalidDBInstanceState", "Instance %s is already being deleted.", id)
	}
	if db.Status != "available" && db.Status != "stopped" && db.Status != "storage-full" && db.Status != "incompatible-parameters" {
		return nil, apiErr("InvalidDBInstanceState", "Instance %s is not in available state.", id)
	}
	if final != "" {
		if rs.DBSnapshots[final] != nil {
			return nil, apiErr("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", final)
		}
		a.newSnapshot(rs, final, db, "manual", db.Tags.clone())
	}
	db.Status = "deleting"
	view := a.dbView(rs, db)
	rs.later(a.sim.Now().Add(a.sim.opts.SettleDelay), func() {
		if rs.DBInstances[id] == db {
			delete(rs.DBInstances, id)
		}
	})
	return struct {
		DBInstance xDBInstance `xml:"DBInstance"`
	}{view}, nil
}

func (a *rdsAPI) describeDBSnapshots(rs *RegionState, _ *Request, p params) (any, error) {
	id := p.get("DBSnapshotIdentifier")
	inst := p.get("DBInstanceIdentifier")
	typ := p.get("SnapshotType")
	var keys []string
	if id != "" {
		if rs.DBSnapshots[id] == nil {
			return nil, rdsNotFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
		}
		keys = []string{id}
	} else {
		for _, k := range sortedKeys(rs.DBSnapshots) {
			sn := rs.DBSnapshots[k]
			if (inst == "" || sn.DBInstanceID == inst) && (typ == "" || sn.SnapshotType == typ) {
				keys = append(keys, k)
			}
		}
	}
	page, next, err := rdsPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		DBSnapshots listOf[xDBSnapshot] `xml:"DBSnapshots"`
		Marker      string              `xml:"Marker,omitempty"`
	}{DBSnapshots: newList[xDBSnapshot]("DBSnapshot"), Marker: next}
	for _, k := range page {
		out.DBSnapshots.add(a.snapView(rs, rs.DBSnapshots[k]))
	}
	return out, nil
}

func (a *rdsAPI) deleteDBSnapshot(rs *RegionState, _ *Request, p params) (any, error) {
	id, err := p.require("DBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	sn := rs.DBSnapshots[id]
	if sn == nil {
		return nil, rdsNotFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
	}
	if sn.Status != "available" {
		return nil, apiErr("InvalidDBSnapshotState", "Cannot delete the snapshot because it is not in the available state.")
	}
	delete(rs.DBSnapshots, id)
	sn.Status = "deleted"
	return struct {
		DBSnapshot xDBSnapshot `xml:"DBSnapshot"`
	}{a.snapView(rs, sn)}, nil
}

func (a *rdsAPI) createDBSnapshot(rs *RegionState, _ *Request, p params) (any, error) {
	id, err := p.require("DBSnapshotIdentifier")
	if err != nil {
		return nil, err
	}
	inst, err := p.require("DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	db := rs.DBInstances[inst]
	if db == nil {
		return nil, rdsNotFound("DBInstanceNotFound", "DBInstance %s not found.", inst)
	}
	if rs.DBSnapshots[id] != nil {
		return nil, apiErr("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", id)
	}
	if db.Status != "available" {
		return nil, apiErr("InvalidDBInstanceState", "Cannot create a snapshot because the database instance %s is not currently in the available state.", inst)
	}
	sn := a.newSnapshot(rs, id, db, "manual", Tags(nil).set(readRDSTags(p)))
	return struct {
		DBSnapshot xDBSnapshot `xml:"DBSnapshot"`
	}{a.snapView(rs, sn)}, nil
}

// taggable resolves an RDS ARN to the tags it names.
func (a *rdsAPI) taggable(rs *RegionState, arn string) (*Tags, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "rds" {
		return nil, apiErr("InvalidParameterValue", "The specified resource name does not match an RDS resource in this region.")
	}
	switch parts[5] {
	case "db":
		if db := rs.DBInstances[parts[6]]; db != nil && parts[4] == rs.Account {
			return &db.Tags, nil
		}
		return nil, rdsNotFound("DBInstanceNotFound", "DBInstance %s not found.", parts[6])
	case "snapshot":
		if sn := rs.DBSnapshots[parts[6]]; sn != nil && parts[4] == rs.Account {
			return &sn.Tags, nil
		}
		return nil, rdsNotFound("DBSnapshotNotFound", "DBSnapshot %s not found.", parts[6])
	}
	return nil, apiErr("InvalidParameterValue", "The specified resource name does not match an RDS resource in this region.")
}

func (a *rdsAPI) listTagsForResource(rs *RegionState, _ *Request, p params) (any, error) {
	arn, err := p.require("ResourceName")
	if err != nil {
		return nil, err
	}
	tp, err := a.taggable(rs, arn)
	if err != nil {
		return nil, err
	}
	return struct {
		TagList listOf[xRDSTag] `xml:"TagList"`
	}{rdsTags(*tp)}, nil
}

func (a *rdsAPI) addTagsToResource(rs *RegionState, _ *Request, p params) (any, error) {
	arn, err := p.require("ResourceName")
	if err != nil {
		return nil, err
	}
	tp, err := a.taggable(rs, arn)
	if err != nil {
		return nil, err
	}
	*tp = tp.clone().set(readRDSTags(p))
	return nil, nil
}

// modifyDBInstance applies a class change and CloudWatch Logs export
// changes immediately; other modifications are accepted and ignored.
func (a *rdsAPI) modifyDBInstance(rs *RegionState, _ *Request, p params) (any, error) {
	id, err := p.require("DBInstanceIdentifier")
	if err != nil {
		return nil, err
	}
	db := rs.DBInstances[id]
	if db == nil {
		return nil, rdsNotFound("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	if db.Status != "available" && db.Status != "stopped" {
		return nil, apiErr("InvalidDBInstanceState", "Database instance is not in available state.")
	}
	if c := p.get("DBInstanceClass"); c != "" {
		db.Class = c
	}
	cfg := p.sub("CloudwatchLogsExportConfiguration")
	for _, t := range cfg.sub("EnableLogTypes").list("member") {
		if !contains(db.LogExports, t) {
			db.LogExports = append(db.LogExports, t)
		}
	}
	for _, t := range cfg.sub("DisableLogTypes").list("member") {
		kept := db.LogExports[:0]
		for _, x := range db.LogExports {
			if x != t {
				kept = append(kept, x)
			}
		}
		db.LogExports = kept
	}
	return struct {
		DBInstance xDBInstance `xml:"DBInstance"`
	}{a.dbView(rs, db)}, nil
}
