package awssim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const route53Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// HostedZone is a Route 53 hosted zone (global, per account).
type HostedZone struct {
	// ID is the bare id ("Z0123456789ABCDEFGHIJ"); empty gets one.
	ID              string `yaml:"id"`
	Name            string `yaml:"name"`
	CallerReference string `yaml:"caller_reference"`
	Comment         string `yaml:"comment"`
	Private         bool   `yaml:"private"`
	// Records are the zone's record sets; NS and SOA records at the apex
	// are added when missing.
	Records []RecordSet `yaml:"records"`
	Tags    Tags        `yaml:"tags"`
}

// RecordSet is a Route 53 resource record set.
type RecordSet struct {
	Name          string       `yaml:"name"`
	Type          string       `yaml:"type"`
	TTL           int64        `yaml:"ttl"`
	Values        []string     `yaml:"values"`
	SetIdentifier string       `yaml:"set_identifier"`
	Weight        *int64       `yaml:"weight"`
	Alias         *AliasTarget `yaml:"alias"`
}

// AliasTarget is an alias record's target.
type AliasTarget struct {
	HostedZoneID         string `yaml:"hosted_zone_id" xml:"HostedZoneId"`
	DNSName              string `yaml:"dns_name" xml:"DNSName"`
	EvaluateTargetHealth bool   `yaml:"evaluate_target_health" xml:"EvaluateTargetHealth"`
}

type r53Change struct {
	id        string
	submitted time.Time
}

type route53Account struct {
	zones   map[string]*HostedZone // by bare id
	changes map[string]r53Change
}

// route53Service serves Route 53 (restXml, global).
type route53Service struct {
	sim *Sim

	mu       sync.Mutex
	accounts map[string]*route53Account
}

func newRoute53(s *Sim) *route53Service {
	return &route53Service{sim: s, accounts: map[string]*route53Account{}}
}

func (s *route53Service) SigningName() string { return "route53" }

func (s *route53Service) state(account string) *route53Account {
	a := s.accounts[account]
	if a == nil {
		a = &route53Account{zones: map[string]*HostedZone{}, changes: map[string]r53Change{}}
		s.accounts[account] = a
	}
	return a
}

// route53Route maps method and path to an operation and its path ids.
func route53Route(method, path string) (op string, ids []string, err error) {
	p, ok := strings.CutPrefix(path, "/2013-04-01/")
	if !ok {
		return "", nil, r53NotFound(method, path)
	}
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "hostedzone":
		switch method {
		case http.MethodGet:
			return "ListHostedZones", nil, nil
		case http.MethodPost:
			return "CreateHostedZone", nil, nil
		}
	case len(parts) == 2 && parts[0] == "hostedzone":
		switch method {
		case http.MethodGet:
			return "GetHostedZone", parts[1:], nil
		case http.MethodDelete:
			return "DeleteHostedZone", parts[1:], nil
		}
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		switch method {
		case http.MethodGet:
			return "ListResourceRecordSets", parts[1:2], nil
		case http.MethodPost:
			return "ChangeResourceRecordSets", parts[1:2], nil
		}
	case len(parts) == 2 && parts[0] == "change" && method == http.MethodGet:
		return "GetChange", parts[1:], nil
	case len(parts) == 3 && parts[0] == "tags":
		switch method {
		case http.MethodGet:
			return "ListTagsForResource", parts[1:], nil
		case http.MethodPost:
			return "ChangeTagsForResource", parts[1:], nil
		}
	}
	return "", nil, r53NotFound(method, path)
}

func r53NotFound(method, path string) error {
	return &APIError{Status: 404, Code: "UnknownOperationException", Message: fmt.Sprintf("No operation for %s %s", method, path), Sender: true}
}

func (s *route53Service) Operation(r *Request) (string, error) {
	op, _, err := route53Route(r.HTTP.Method, r.HTTP.URL.Path)
	return op, err
}

func (s *route53Service) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	if e.Code == "Throttling" && r.Action == "ChangeResourceRecordSets" {
		// Route 53 throttles concurrent changes to one zone this way.
		e = &APIError{Status: 400, Code: "PriorRequestNotComplete",
			Message: "The request was rejected because Route 53 was still processing a prior request.", Sender: true}
	}
	writeRESTXMLError(w, r, route53Namespace, e)
}

func noSuchHostedZone(id string) error {
	return &APIError{Status: 404, Code: "NoSuchHostedZone", Message: "No hosted zone found with ID: " + id, Sender: true}
}

func (s *route53Service) Serve(w http.ResponseWriter, r *Request) {
	op, ids, err := route53Route(r.HTTP.Method, r.HTTP.URL.Path)
	var out any
	status := http.StatusOK
	if err == nil {
		s.mu.Lock()
		st := s.state(r.Account)
		switch op {
		case "ListHostedZones":
			out, err = s.listHostedZones(st, r.HTTP.URL.Query())
		case "CreateHostedZone":
			out, err = s.createHostedZone(st, r)
			if err == nil {
				status = http.StatusCreated
				w.Header().Set("Location", "https://route53.amazonaws.com/2013-04-01/hostedzone/"+out.(*xCreateHostedZoneResponse).Zone.ID[len("/hostedzone/"):])
			}
		case "GetHostedZone":
			out, err = s.getHostedZone(st, ids[0])
		case "DeleteHostedZone":
			out, err = s.deleteHostedZone(st, ids[0])
		case "ListResourceRecordSets":
			out, err = s.listRecordSets(st, ids[0], r.HTTP.URL.Query())
		case "ChangeResourceRecordSets":
			out, err = s.changeRecordSets(st, ids[0], r.Body)
		case "GetChange":
			out, err = s.getChange(st, ids[0])
		case "ListTagsForResource":
			out, err = s.listTags(st, ids[0], ids[1])
		case "ChangeTagsForResource":
			out, err = s.changeTags(st, ids[0], ids[1], r.Body)
		}
		s.mu.Unlock()
	}
	if err != nil {
		s.WriteError(w, r, asAPIError(err))
		return
	}
	writeXMLDoc(w, r, status, out)
}

type xHostedZone struct {
	ID                     string `xml:"Id"`
	Name                   string `xml:"Name"`
	CallerReference        string `xml:"CallerReference"`
	Comment                string `xml:"Config>Comment,omitempty"`
	PrivateZone            bool   `xml:"Config>PrivateZone"`
	ResourceRecordSetCount int    `xml:"ResourceRecordSetCount"`
}

func xZone(z *HostedZone) xHostedZone {
	return xHostedZone{ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: z.CallerReference,
		Comment: z.Comment, PrivateZone: z.Private, ResourceRecordSetCount: len(z.Records)}
}

func r53MaxItems(q url.Values) (int, error) {
	mi := q.Get("maxitems")
	if mi == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(mi)
	if err != nil || n < 1 {
		return 0, apiErr("InvalidInput", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a positive integer", mi)
	}
	return min(n, 100), nil
}

func (s *route53Service) listHostedZones(st *route53Account, q url.Values) (any, error) {
	maxItems, err := r53MaxItems(q)
	if err != nil {
		return nil, err
	}
	ids := sortedKeys(st.zones)
	marker := q.Get("marker")
	start := 0
	if marker != "" {
		i := sort.SearchStrings(ids, marker)
		if i == len(ids) || ids[i] != marker {
			return nil, apiErr("InvalidInput", "Invalid marker: %s", marker)
		}
		start = i
	}
	out := struct {
		XMLName     xml.Name      `xml:"ListHostedZonesResponse"`
		Xmlns       string        `xml:"xmlns,attr"`
		HostedZones []xHostedZone `xml:"HostedZones>HostedZone"`
		Marker      string        `xml:"Marker,omitempty"`
		IsTruncated bool          `xml:"IsTruncated"`
		NextMarker  string        `xml:"NextMarker,omitempty"`
		MaxItems    string        `xml:"MaxItems"`
	}{Xmlns: route53Namespace, Marker: marker, MaxItems: strconv.Itoa(maxItems)}
	out.HostedZones = []xHostedZone{}
	end := min(len(ids), start+maxItems)
	for _, id := range ids[start:end] {
		out.HostedZones = append(out.HostedZones, xZone(st.zones[id]))
	}
	if end < len(ids) {
		out.IsTruncated = true
		out.NextMarker = ids[end]
	}
	return out, nil
}

type xCreateHostedZoneResponse struct {
	XMLName     xml.Name    `xml:"CreateHostedZoneResponse"`
	Xmlns       string      `xml:"xmlns,attr"`
	Zone        xHostedZone `xml:"HostedZone"`
	ChangeInfo  xChangeInfo `xml:"ChangeInfo"`
	NameServers []string    `xml:"DelegationSet>NameServers>NameServer"`
}

type xChangeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

// fqdn lowercases a DNS name and adds the final dot.
func fqdn(n string) string {
	n = strings.ToLower(strings.TrimSpace(n))
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

func zoneNameServers(id string) []string {
	h := hashString(id)
	return []string{
		fmt.Sprintf("ns-%d.awsdns-%02d.com.", h%512, h%64),
		fmt.Sprintf("ns-%d.awsdns-%02d.net.", 512+h%512, (h>>8)%64),
		fmt.Sprintf("ns-%d.awsdns-%02d.org.", 1024+h%512, (h>>16)%64),
		fmt.Sprintf("ns-%d.awsdns-%02d.co.uk.", 1536+h%512, (h>>24)%64),
	}
}

func (s *route53Service) newChange(st *route53Account) xChangeInfo {
	id := fmt.Sprintf("C%019X", s.sim.nextID()|0x0A00000000000000)[:20]
	now := s.sim.Now()
	st.changes[id] = r53Change{id: id, submitted: now}
	return xChangeInfo{ID: "/change/" + id, Status: "PENDING", SubmittedAt: isoTime(now)}
}

// completeZone fills defaults and apex NS/SOA records.
func completeZone(z *HostedZone, sim *Sim) {
	z.Name = fqdn(z.Name)
	if z.ID == "" {
		z.ID = fmt.Sprintf("Z%019X", hashString(z.Name)^sim.nextID())[:20]
	}
	if z.CallerReference == "" {
		z.CallerReference = z.ID
	}
	var hasNS, hasSOA bool
	for i := range z.Records {
		rr := &z.Records[i]
		rr.Name = fqdn(rr.Name)
		rr.Type = strings.ToUpper(rr.Type)
		if rr.Name == z.Name && rr.Type == "NS" {
			hasNS = true
		}
		if rr.Name == z.Name && rr.Type == "SOA" {
			hasSOA = true
		}
	}
	ns := zoneNameServers(z.ID)
	if !hasSOA {
		z.Records = append(z.Records, RecordSet{Name: z.Name, Type: "SOA", TTL: 900,
			Values: []string{ns[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}})
	}
	if !hasNS {
		z.Records = append(z.Records, RecordSet{Name: z.Name, Type: "NS", TTL: 172800, Values: ns})
	}
	sortRecords(z.Records)
}

func (s *route53Service) createHostedZone(st *route53Account, r *Request) (any, error) {
	var in struct {
		Name            string `xml:"Name"`
		CallerReference string `xml:"CallerReference"`
		Comment         string `xml:"HostedZoneConfig>Comment"`
		Private         bool   `xml:"HostedZoneConfig>PrivateZone"`
		VPCID           string `xml:"VPC>VPCId"`
	}
	if err := decodeXMLBody(r.Body, &in); err != nil {
		return nil, err
	}
	if in.Name == "" || in.CallerReference == "" {
		return nil, apiErr("InvalidInput", "Name and CallerReference are required")
	}
	for _, z := range st.zones {
		if z.CallerReference == in.CallerReference {
			return nil, &APIError{Status: 409, Code: "HostedZoneAlreadyExists",
				Message: "A hosted zone has already been created with the specified caller reference.", Sender: true}
		}
	}
	z := &HostedZone{Name: in.Name, CallerReference: in.CallerReference, Comment: in.Comment, Private: in.Private || in.VPCID != ""}
	completeZone(z, s.sim)
	st.zones[z.ID] = z
	return &xCreateHostedZoneResponse{Xmlns: route53Namespace, Zone: xZone(z), ChangeInfo: s.newChange(st), NameServers: zoneNameServers(z.ID)}, nil
}

func (s *route53Service) getHostedZone(st *route53Account, id string) (any, error) {
	z := st.zones[id]
	if z == nil {
		return nil, noSuchHostedZone(id)
	}
	out := struct {
		XMLName     xml.Name    `xml:"GetHostedZoneResponse"`
		Xmlns       string      `xml:"xmlns,attr"`
		Zone        xHostedZone `xml:"HostedZone"`
		NameServers []string    `xml:"DelegationSet>NameServers>NameServer,omitempty"`
	}{Xmlns: route53Namespace, Zone: xZone(z)}
	if !z.Private {
		out.NameServers = zoneNameServers(z.ID)
	}
	return out, nil
}

func (s *route53Service) deleteHostedZone(st *route53Account, id string) (any, error) {
	z := st.zones[id]
	if z == nil {
		return nil, noSuchHostedZone(id)
	}
	for _, rr := range z.Records {
		if !(rr.Name == z.Name && (rr.Type == "NS" || rr.Type == "SOA")) {
			return nil, apiErr("HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
		}
	}
	delete(st.zones, id)
	return struct {
		XMLName    xml.Name    `xml:"DeleteHostedZoneResponse"`
		Xmlns      string      `xml:"xmlns,attr"`
		ChangeInfo xChangeInfo `xml:"ChangeInfo"`
	}{Xmlns: route53Namespace, ChangeInfo: s.newChange(st)}, nil
}

// reverseName is the sort key Route 53 lists records by: labels reversed.
func reverseName(n string) string {
	labels := strings.Split(strings.TrimSuffix(n, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func recordLess(a, b RecordSet) bool {
	ra, rb := reverseName(a.Name), reverseName(b.Name)
	if ra != rb {
		return ra < rb
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.SetIdentifier < b.SetIdentifier
}

func sortRecords(rs []RecordSet) {
	sort.SliceStable(rs, func(i, j int) bool { return recordLess(rs[i], rs[j]) })
}

type xRecord struct {
	Name          string       `xml:"Name"`
	Type          string       `xml:"Type"`
	SetIdentifier string       `xml:"SetIdentifier,omitempty"`
	Weight        *int64       `xml:"Weight,omitempty"`
	TTL           *int64       `xml:"TTL,omitempty"`
	Values        []xValue     `xml:"ResourceRecords>ResourceRecord,omitempty"`
	Alias         *AliasTarget `xml:"AliasTarget,omitempty"`
}

// xValue is one ResourceRecord: each value is its own element, as Route 53
// writes them (one ResourceRecord holding several Values would read back
// as one value).
type xValue struct {
	Value string `xml:"Value"`
}

func xRecordOf(rr RecordSet) xRecord {
	x := xRecord{Name: rr.Name, Type: rr.Type, SetIdentifier: rr.SetIdentifier, Weight: rr.Weight, Alias: rr.Alias}
	if rr.Alias == nil {
		ttl := rr.TTL
		x.TTL = &ttl
		for _, v := range rr.Values {
			x.Values = append(x.Values, xValue{v})
		}
	}
	return x
}

func (x xRecord) recordSet() RecordSet {
	rr := RecordSet{Name: fqdn(x.Name), Type: strings.ToUpper(x.Type), SetIdentifier: x.SetIdentifier, Weight: x.Weight}
	for _, v := range x.Values {
		rr.Values = append(rr.Values, v.Value)
	}
	if x.TTL != nil {
		rr.TTL = *x.TTL
	}
	if x.Alias != nil {
		a := *x.Alias
		a.DNSName = fqdn(a.DNSName)
		rr.Alias = &a
	}
	return rr
}

func (s *route53Service) listRecordSets(st *route53Account, id string, q url.Values) (any, error) {
	z := st.zones[id]
	if z == nil {
		return nil, noSuchHostedZone(id)
	}
	maxItems, err := r53MaxItems(q)
	if err != nil {
		return nil, err
	}
	startName, startType, startID := q.Get("name"), strings.ToUpper(q.Get("type")), q.Get("identifier")
	if startType != "" && startName == "" {
		return nil, apiErr("InvalidInput", "The input is not valid: StartRecordType requires StartRecordName")
	}
	start := 0
	if startName != "" {
		probe := RecordSet{Name: fqdn(startName), Type: startType, SetIdentifier: startID}
		start = sort.Search(len(z.Records), func(i int) bool { return !recordLess(z.Records[i], probe) })
	}
	out := struct {
		XMLName              xml.Name  `xml:"ListResourceRecordSetsResponse"`
		Xmlns                string    `xml:"xmlns,attr"`
		Records              []xRecord `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated          bool      `xml:"IsTruncated"`
		NextRecordName       string    `xml:"NextRecordName,omitempty"`
		NextRecordType       string    `xml:"NextRecordType,omitempty"`
		NextRecordIdentifier string    `xml:"NextRecordIdentifier,omitempty"`
		MaxItems             string    `xml:"MaxItems"`
	}{Xmlns: route53Namespace, MaxItems: strconv.Itoa(maxItems), Records: []xRecord{}}
	end := min(len(z.Records), start+maxItems)
	for _, rr := range z.Records[start:end] {
		out.Records = append(out.Records, xRecordOf(rr))
	}
	if end < len(z.Records) {
		next := z.Records[end]
		out.IsTruncated = true
		out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = next.Name, next.Type, next.SetIdentifier
	}
	return out, nil
}

func sameRecord(a, b RecordSet) bool {
	if a.Name != b.Name || a.Type != b.Type || a.SetIdentifier != b.SetIdentifier {
		return false
	}
	if (a.Alias == nil) != (b.Alias == nil) {
		return false
	}
	if a.Alias != nil {
		return strings.EqualFold(a.Alias.DNSName, b.Alias.DNSName) && a.Alias.HostedZoneID == b.Alias.HostedZoneID &&
			a.Alias.EvaluateTargetHealth == b.Alias.EvaluateTargetHealth
	}
	if a.TTL != b.TTL || len(a.Values) != len(b.Values) {
		return false
	}
	av, bv := append([]string(nil), a.Values...), append([]string(nil), b.Values...)
	sort.Strings(av)
	sort.Strings(bv)
	for i := range av {
		if av[i] != bv[i] {
			return false
		}
	}
	if (a.Weight == nil) != (b.Weight == nil) || (a.Weight != nil && *a.Weight != *b.Weight) {
		return false
	}
	return true
}

func rrsetLabel(rr RecordSet) string {
	if rr.SetIdentifier != "" {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", rr.Name, rr.Type, rr.SetIdentifier)
	}
	return fmt.Sprintf("[name='%s', type='%s']", rr.Name, rr.Type)
}

func (s *route53Service) changeRecordSets(st *route53Account, id string, body []byte) (any, error) {
	z := st.zones[id]
	if z == nil {
		return nil, noSuchHostedZone(id)
	}
	var in struct {
		Comment string `xml:"ChangeBatch>Comment"`
		Changes []struct {
			Action string  `xml:"Action"`
			Record xRecord `xml:"ResourceRecordSet"`
		} `xml:"ChangeBatch>Changes>Change"`
	}
	if err := decodeXMLBody(body, &in); err != nil {
		return nil, err
	}
	if len(in.Changes) == 0 {
		return nil, apiErr("InvalidInput", "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	recs := append([]RecordSet(nil), z.Records...)
	var msgs []string
	find := func(rr RecordSet) int {
		for i, x := range recs {
			if x.Name == rr.Name && x.Type == rr.Type && x.SetIdentifier == rr.SetIdentifier {
				return i
			}
		}
		return -1
	}
	for _, c := range in.Changes {
		rr := c.Record.recordSet()
		if rr.Name != z.Name && !strings.HasSuffix(rr.Name, "."+z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", rr.Name, z.Name))
			continue
		}
		i := find(rr)
		switch c.Action {
		case "CREATE":
			if i >= 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", rrsetLabel(rr)))
				continue
			}
			recs = append(recs, rr)
		case "DELETE":
			if i < 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", rrsetLabel(rr)))
				continue
			}
			if !sameRecord(recs[i], rr) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", rrsetLabel(rr)))
				continue
			}
			if rr.Name == z.Name && (rr.Type == "SOA" || rr.Type == "NS") {
				msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
				continue
			}
			recs = append(recs[:i], recs[i+1:]...)
		case "UPSERT":
			if i >= 0 {
				recs[i] = rr
			} else {
				recs = append(recs, rr)
			}
		default:
			return nil, apiErr("InvalidInput", "Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'.", c.Action)
		}
	}
	if len(msgs) > 0 {
		return nil, apiErr("InvalidChangeBatch", "[%s]", strings.Join(msgs, ", "))
	}
	sortRecords(recs)
	z.Records = recs
	ci := s.newChange(st)
	ci.Comment = in.Comment
	return struct {
		XMLName    xml.Name    `xml:"ChangeResourceRecordSetsResponse"`
		Xmlns      string      `xml:"xmlns,attr"`
		ChangeInfo xChangeInfo `xml:"ChangeInfo"`
	}{Xmlns: route53Namespace, ChangeInfo: ci}, nil
}

func (s *route53Service) getChange(st *route53Account, id string) (any, error) {
	c, ok := st.changes[id]
	if !ok {
		return nil, &APIError{Status: 404, Code: "NoSuchChange", Message: "A change with the specified change ID does not exist.", Sender: true}
	}
	status := "PENDING"
	if !s.sim.Now().Before(c.submitted.Add(s.sim.opts.SettleDelay)) {
		status = "INSYNC"
	}
	return struct {
		XMLName    xml.Name    `xml:"GetChangeResponse"`
		Xmlns      string      `xml:"xmlns,attr"`
		ChangeInfo xChangeInfo `xml:"ChangeInfo"`
	}{Xmlns: route53Namespace, ChangeInfo: xChangeInfo{ID: "/change/" + id, Status: status, SubmittedAt: isoTime(c.submitted)}}, nil
}

type xResourceTagSet struct {
	ResourceType string   `xml:"ResourceType"`
	ResourceID   string   `xml:"ResourceId"`
	Tags         []xS3Tag `xml:"Tags>Tag"`
}

func (s *route53Service) listTags(st *route53Account, typ, id string) (any, error) {
	if typ != "hostedzone" && typ != "healthcheck" {
		return nil, apiErr("InvalidInput", "Invalid resource type: %s", typ)
	}
	z := st.zones[id]
	if typ == "hostedzone" && z == nil {
		return nil, noSuchHostedZone(id)
	}
	out := struct {
		XMLName xml.Name        `xml:"ListTagsForResourceResponse"`
		Xmlns   string          `xml:"xmlns,attr"`
		Set     xResourceTagSet `xml:"ResourceTagSet"`
	}{Xmlns: route53Namespace, Set: xResourceTagSet{ResourceType: typ, ResourceID: id, Tags: []xS3Tag{}}}
	if z != nil {
		for _, t := range z.Tags {
			out.Set.Tags = append(out.Set.Tags, xS3Tag(t))
		}
	}
	return out, nil
}

func (s *route53Service) changeTags(st *route53Account, typ, id string, body []byte) (any, error) {
	z := st.zones[id]
	if typ != "hostedzone" || z == nil {
		return nil, noSuchHostedZone(id)
	}
	var in struct {
		Add    []xS3Tag `xml:"AddTags>Tag"`
		Remove []string `xml:"RemoveTagKeys>Key"`
	}
	if err := decodeXMLBody(body, &in); err != nil {
		return nil, err
	}
	for _, t := range in.Add {
		z.Tags = z.Tags.set([]Tag{Tag(t)})
	}
	del := make([]Tag, len(in.Remove))
	for i, k := range in.Remove {
		del[i] = Tag{Key: k}
	}
	z.Tags = z.Tags.remove(del, make([]bool, len(del)))
	return struct {
		XMLName xml.Name `xml:"ChangeTagsForResourceResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
	}{Xmlns: route53Namespace}, nil
}

// AddHostedZones adds hosted zones to an account (Go API for seeding).
// Zones without NS and SOA records at the apex get them.
func (s *Sim) AddHostedZones(account string, zones ...HostedZone) error {
	if _, err := s.account(account); err != nil {
		return err
	}
	svc, _ := s.service("route53").(*route53Service)
	if svc == nil {
		return fmt.Errorf("add hosted zones: %w: route53 not registered", ErrInvalidScenario)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	st := svc.state(account)
	for _, z := range zones {
		if z.Name == "" {
			return fmt.Errorf("hosted zone: %w: name is required", ErrInvalidScenario)
		}
		z.Records = append([]RecordSet(nil), z.Records...)
		z.Tags = z.Tags.clone()
		completeZone(&z, s)
		zz := z
		st.zones[z.ID] = &zz
	}
	return nil
}

// HostedZones returns copies of an account's hosted zones, by id.
func (s *Sim) HostedZones(account string) []HostedZone {
	svc, _ := s.service("route53").(*route53Service)
	if svc == nil {
		return nil
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	st := svc.state(account)
	var out []HostedZone
	for _, id := range sortedKeys(st.zones) {
		z := *st.zones[id]
		z.Records = append([]RecordSet(nil), z.Records...)
		z.Tags = z.Tags.clone()
		out = append(out, z)
	}
	return out
}
