package awssim

import (
	"bytes"
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

const cloudfrontNamespace = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// Distribution is a CloudFront distribution (global, per account), as
// seeded from YAML or Go. The sim keeps the full DistributionConfig
// document; these fields build the default one.
type Distribution struct {
	// ID is the distribution id ("E1OQK8XICQK4UM"); empty gets one.
	ID              string               `yaml:"id"`
	CallerReference string               `yaml:"caller_reference"`
	Comment         string               `yaml:"comment"`
	Enabled         *bool                `yaml:"enabled"`
	Aliases         []string             `yaml:"aliases"`
	Origins         []DistributionOrigin `yaml:"origins"`
	// DefaultRootObject, PriceClass and WebACLID are copied to the config.
	DefaultRootObject string `yaml:"default_root_object"`
	PriceClass        string `yaml:"price_class"`
	WebACLID          string `yaml:"web_acl_id"`
	// ViewerProtocolPolicy of the default cache behavior: allow-all,
	// redirect-to-https or https-only.
	ViewerProtocolPolicy string               `yaml:"viewer_protocol_policy"`
	Logging              *DistributionLogging `yaml:"logging"`
	Status               string               `yaml:"status"` // Deployed|InProgress
	Tags                 Tags                 `yaml:"tags"`
}

// DistributionOrigin is one origin: an S3 bucket domain
// (BUCKET.s3.amazonaws.com) or a custom one (an ELB DNS name, say).
type DistributionOrigin struct {
	ID         string `yaml:"id"`
	DomainName string `yaml:"domain_name"`
	OriginPath string `yaml:"origin_path"`
}

// DistributionLogging is a distribution's access log setting.
type DistributionLogging struct {
	Bucket         string `yaml:"bucket"`
	Prefix         string `yaml:"prefix"`
	IncludeCookies bool   `yaml:"include_cookies"`
}

// xnode is a generic XML element, for documents the sim stores whole.
type xnode struct {
	XMLName xml.Name
	Text    string   `xml:",chardata"`
	Nodes   []*xnode `xml:",any"`
}

func (n *xnode) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: n.XMLName.Local}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if len(n.Nodes) == 0 {
		if err := e.EncodeToken(xml.CharData(n.Text)); err != nil {
			return err
		}
	}
	for _, c := range n.Nodes {
		if err := e.Encode(c); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// child returns the first child element with the given name, or nil.
func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return c
		}
	}
	return nil
}

// text returns the trimmed text at a path of child names ("" if missing).
func (n *xnode) text(path ...string) string {
	for _, p := range path {
		n = n.child(p)
	}
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// all returns the children named name of the element at path.
func (n *xnode) all(name string, path ...string) []*xnode {
	for _, p := range path {
		n = n.child(p)
	}
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			out = append(out, c)
		}
	}
	return out
}

func (n *xnode) clone() *xnode {
	if n == nil {
		return nil
	}
	c := &xnode{XMLName: xml.Name{Local: n.XMLName.Local}, Text: n.Text}
	for _, k := range n.Nodes {
		c.Nodes = append(c.Nodes, k.clone())
	}
	return c
}

type cfDistribution struct {
	id, arn, status, domain, etag string
	modified, settleAt            time.Time
	config                        *xnode // <DistributionConfig>
	tags                          Tags
}

// cloudfrontService serves CloudFront (restXml, global).
type cloudfrontService struct {
	sim *Sim

	mu    sync.Mutex
	dists map[string]map[string]*cfDistribution // account -> id -> distribution
}

func newCloudFront(s *Sim) *cloudfrontService {
	return &cloudfrontService{sim: s, dists: map[string]map[string]*cfDistribution{}}
}

func (s *cloudfrontService) SigningName() string { return "cloudfront" }

// cloudfrontRoute maps method and path to an operation and a distribution id.
func cloudfrontRoute(method, path string) (op, id string, err error) {
	p, ok := strings.CutPrefix(path, "/2020-05-31/")
	if !ok {
		return "", "", r53NotFound(method, path)
	}
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "distribution":
		switch method {
		case http.MethodGet:
			return "ListDistributions", "", nil
		case http.MethodPost:
			return "CreateDistribution", "", nil
		}
	case len(parts) == 2 && parts[0] == "distribution" && method == http.MethodGet:
		return "GetDistribution", parts[1], nil
	case len(parts) == 2 && parts[0] == "distribution" && method == http.MethodDelete:
		return "DeleteDistribution", parts[1], nil
	case len(parts) == 3 && parts[0] == "distribution" && parts[2] == "config":
		switch method {
		case http.MethodGet:
			return "GetDistributionConfig", parts[1], nil
		case http.MethodPut:
			return "UpdateDistribution", parts[1], nil
		}
	case len(parts) == 1 && parts[0] == "tagging" && method == http.MethodGet:
		return "ListTagsForResource", "", nil
	}
	return "", "", r53NotFound(method, path)
}

func (s *cloudfrontService) Operation(r *Request) (string, error) {
	op, _, err := cloudfrontRoute(r.HTTP.Method, r.HTTP.URL.Path)
	return op, err
}

func (s *cloudfrontService) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	writeRESTXMLError(w, r, cloudfrontNamespace, e)
}

func noSuchDistribution() error {
	return &APIError{Status: 404, Code: "NoSuchDistribution", Message: "The specified distribution does not exist.", Sender: true}
}

func (s *cloudfrontService) Serve(w http.ResponseWriter, r *Request) {
	op, id, err := cloudfrontRoute(r.HTTP.Method, r.HTTP.URL.Path)
	var out any
	status := http.StatusOK
	if err == nil {
		s.mu.Lock()
		ds := s.dists[r.Account]
		if ds == nil {
			ds = map[string]*cfDistribution{}
			s.dists[r.Account] = ds
		}
		now := s.sim.Now()
		for _, d := range ds {
			if d.status == "InProgress" && !now.Before(d.settleAt) {
				d.status = "Deployed"
			}
		}
		switch op {
		case "ListDistributions":
			out, err = s.list(ds, r.HTTP.URL.Query())
		case "CreateDistribution":
			var d *cfDistribution
			d, err = s.create(ds, r)
			if err == nil {
				status = http.StatusCreated
				w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+d.id)
				w.Header().Set("ETag", d.etag)
				out = xDistributionOf(d)
			}
		case "GetDistribution", "GetDistributionConfig", "DeleteDistribution":
			d := ds[id]
			switch {
			case d == nil:
				err = noSuchDistribution()
			case op == "GetDistribution":
				w.Header().Set("ETag", d.etag)
				out = xDistributionOf(d)
			case op == "GetDistributionConfig":
				w.Header().Set("ETag", d.etag)
				c := d.config.clone()
				out = c
			default:
				err = s.delete(ds, d, r)
				if err == nil {
					s.mu.Unlock()
					w.Header().Set("x-amzn-RequestId", r.RequestID)
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
		case "UpdateDistribution":
			var d *cfDistribution
			d, err = s.update(ds, id, r)
			if err == nil {
				w.Header().Set("ETag", d.etag)
				out = xDistributionOf(d)
			}
		case "ListTagsForResource":
			out, err = s.listTags(ds, r.HTTP.URL.Query())
		}
		s.mu.Unlock()
	}
	if err != nil {
		s.WriteError(w, r, asAPIError(err))
		return
	}
	if n, ok := out.(*xnode); ok {
		n = n.clone()
		out = struct {
			XMLName xml.Name `xml:"DistributionConfig"`
			Xmlns   string   `xml:"xmlns,attr"`
			Nodes   []*xnode
		}{Xmlns: cloudfrontNamespace, Nodes: n.Nodes}
	}
	writeXMLDoc(w, r, status, out)
}

// summaryFields are the DistributionConfig elements a DistributionSummary repeats.
var summaryFields = map[string]bool{"Aliases": true, "Origins": true, "OriginGroups": true, "DefaultCacheBehavior": true,
	"CacheBehaviors": true, "CustomErrorResponses": true, "Comment": true, "PriceClass": true, "Enabled": true,
	"ViewerCertificate": true, "Restrictions": true, "WebACLId": true, "HttpVersion": true, "IsIPV6Enabled": true, "Staging": true}

func leaf(name, text string) *xnode { return &xnode{XMLName: xml.Name{Local: name}, Text: text} }

func (s *cloudfrontService) list(ds map[string]*cfDistribution, q url.Values) (any, error) {
	maxItems := 100
	if mi := q.Get("MaxItems"); mi != "" {
		n, err := strconv.Atoi(mi)
		if err != nil || n < 1 {
			return nil, apiErr("InvalidArgument", "The value of MaxItems is not valid.")
		}
		maxItems = min(n, 100)
	}
	ids := sortedKeys(ds)
	marker := q.Get("Marker")
	start := 0
	if marker != "" {
		start = sort.SearchStrings(ids, marker)
	}
	type xList struct {
		XMLName     xml.Name `xml:"DistributionList"`
		Xmlns       string   `xml:"xmlns,attr"`
		Marker      string   `xml:"Marker"`
		NextMarker  string   `xml:"NextMarker,omitempty"`
		MaxItems    int      `xml:"MaxItems"`
		IsTruncated bool     `xml:"IsTruncated"`
		Quantity    int      `xml:"Quantity"`
		Items       []*xnode `xml:"Items>DistributionSummary,omitempty"`
	}
	out := xList{Xmlns: cloudfrontNamespace, Marker: marker, MaxItems: maxItems}
	end := min(len(ids), start+maxItems)
	for _, id := range ids[start:end] {
		d := ds[id]
		sum := &xnode{XMLName: xml.Name{Local: "DistributionSummary"}, Nodes: []*xnode{
			leaf("Id", d.id), leaf("ARN", d.arn), leaf("ETag", d.etag), leaf("Status", d.status),
			leaf("LastModifiedTime", isoTime(d.modified)), leaf("DomainName", d.domain)}}
		for _, c := range d.config.Nodes {
			if summaryFields[c.XMLName.Local] {
				sum.Nodes = append(sum.Nodes, c.clone())
			}
		}
		if sum.child("Staging") == nil {
			sum.Nodes = append(sum.Nodes, leaf("Staging", "false"))
		}
		out.Items = append(out.Items, sum)
	}
	out.Quantity = len(out.Items)
	if end < len(ids) {
		out.IsTruncated = true
		out.NextMarker = ids[end]
	}
	return out, nil
}

type xDistribution struct {
	XMLName                       xml.Name `xml:"Distribution"`
	Xmlns                         string   `xml:"xmlns,attr"`
	ID                            string   `xml:"Id"`
	ARN                           string   `xml:"ARN"`
	Status                        string   `xml:"Status"`
	LastModifiedTime              string   `xml:"LastModifiedTime"`
	InProgressInvalidationBatches int      `xml:"InProgressInvalidationBatches"`
	DomainName                    string   `xml:"DomainName"`
	SignersEnabled                bool     `xml:"ActiveTrustedSigners>Enabled"`
	SignersQuantity               int      `xml:"ActiveTrustedSigners>Quantity"`
	KeyGroupsEnabled              bool     `xml:"ActiveTrustedKeyGroups>Enabled"`
	KeyGroupsQuantity             int      `xml:"ActiveTrustedKeyGroups>Quantity"`
	Config                        *xnode   `xml:"DistributionConfig"`
}

func xDistributionOf(d *cfDistribution) xDistribution {
	return xDistribution{Xmlns: cloudfrontNamespace, ID: d.id, ARN: d.arn, Status: d.status,
		LastModifiedTime: isoTime(d.modified), DomainName: d.domain, Config: d.config.clone()}
}

// parseDistributionConfig decodes a DistributionConfig request body and
// checks what CloudFront requires.
func parseDistributionConfig(body []byte) (*xnode, error) {
	var n xnode
	if err := xml.Unmarshal(body, &n); err != nil || n.XMLName.Local != "DistributionConfig" {
		return nil, apiErr("MalformedInput", "Unexpected list type")
	}
	stripNS(&n)
	for _, req := range []string{"CallerReference", "Origins", "DefaultCacheBehavior", "Comment", "Enabled"} {
		if n.child(req) == nil {
			return nil, apiErr("MalformedInput", "Unexpected complex element termination")
		}
	}
	origins := map[string]bool{}
	for _, o := range n.all("Origin", "Origins", "Items") {
		origins[o.text("Id")] = true
		if o.text("DomainName") == "" {
			return nil, apiErr("InvalidArgument", "The parameter origin name cannot be null or empty.")
		}
	}
	if len(origins) == 0 {
		return nil, apiErr("InvalidArgument", "The parameter Origins must contain at least one origin.")
	}
	if t := n.text("DefaultCacheBehavior", "TargetOriginId"); !origins[t] {
		return nil, apiErr("NoSuchOrigin", "One or more of your origins or origin groups do not exist.")
	}
	return &n, nil
}

func stripNS(n *xnode) {
	n.XMLName.Space = ""
	for _, c := range n.Nodes {
		stripNS(c)
	}
}

func (s *cloudfrontService) newETag() string {
	return fmt.Sprintf("E%012X", hashString(fmt.Sprint(s.sim.nextID()))&0xFFFFFFFFFFFF)
}

func (s *cloudfrontService) create(ds map[string]*cfDistribution, r *Request) (*cfDistribution, error) {
	cfg, err := parseDistributionConfig(r.Body)
	if err != nil {
		return nil, err
	}
	ref := cfg.text("CallerReference")
	for _, d := range ds {
		if d.config.text("CallerReference") == ref {
			return nil, &APIError{Status: 409, Code: "DistributionAlreadyExists",
				Message: "The caller reference that you are using to create a distribution is associated with another distribution.", Sender: true}
		}
	}
	d := s.newDistribution(r.Account, "", cfg)
	ds[d.id] = d
	return d, nil
}

func (s *cloudfrontService) newDistribution(account, id string, cfg *xnode) *cfDistribution {
	if id == "" {
		id = fmt.Sprintf("E%013X", hashString(account+cfg.text("CallerReference"))^s.sim.nextID())[:14]
	}
	now := s.sim.Now()
	return &cfDistribution{id: id, arn: fmt.Sprintf("arn:%s:cloudfront::%s:distribution/%s", s.sim.Partition(), account, id),
		status: "InProgress", domain: fmt.Sprintf("d%s.cloudfront.net", fmt.Sprintf("%016x", hashString(id))[:13]), etag: s.newETag(),
		modified: now, settleAt: now.Add(s.sim.opts.SettleDelay), config: cfg}
}

func (s *cloudfrontService) update(ds map[string]*cfDistribution, id string, r *Request) (*cfDistribution, error) {
	d := ds[id]
	if d == nil {
		return nil, noSuchDistribution()
	}
	ifMatch := r.HTTP.Header.Get("If-Match")
	if ifMatch == "" {
		return nil, apiErr("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
	}
	if ifMatch != d.etag {
		return nil, &APIError{Status: 412, Code: "PreconditionFailed", Message: "The request failed because it didn't meet the preconditions in one or more request-header fields.", Sender: true}
	}
	cfg, err := parseDistributionConfig(r.Body)
	if err != nil {
		return nil, err
	}
	if cfg.text("CallerReference") != d.config.text("CallerReference") {
		return nil, apiErr("IllegalUpdate", "Your request contains changes that are not allowed: CallerReference cannot be updated.")
	}
	now := s.sim.Now()
	d.config, d.etag, d.status, d.modified, d.settleAt = cfg, s.newETag(), "InProgress", now, now.Add(s.sim.opts.SettleDelay)
	return d, nil
}

func (s *cloudfrontService) delete(ds map[string]*cfDistribution, d *cfDistribution, r *Request) error {
	ifMatch := r.HTTP.Header.Get("If-Match")
	if ifMatch == "" {
		return apiErr("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
	}
	if ifMatch != d.etag {
		return &APIError{Status: 412, Code: "PreconditionFailed", Message: "The request failed because it didn't meet the preconditions in one or more request-header fields.", Sender: true}
	}
	if d.config.text("Enabled") == "true" || d.status != "Deployed" {
		return &APIError{Status: 409, Code: "DistributionNotDisabled", Message: "The distribution you are trying to delete has not been disabled.", Sender: true}
	}
	delete(ds, d.id)
	return nil
}

func (s *cloudfrontService) listTags(ds map[string]*cfDistribution, q url.Values) (any, error) {
	arn := q.Get("Resource")
	for _, d := range ds {
		if d.arn == arn {
			out := struct {
				XMLName xml.Name `xml:"Tags"`
				Xmlns   string   `xml:"xmlns,attr"`
				Items   []xS3Tag `xml:"Items>Tag"`
			}{Xmlns: cloudfrontNamespace}
			for _, t := range d.tags {
				out.Items = append(out.Items, xS3Tag(t))
			}
			return out, nil
		}
	}
	return nil, apiErr("NoSuchResource", "The specified resource does not exist.")
}

// defaultDistributionConfig renders the DistributionConfig CloudFront
// returns for a distribution created with the given settings.
func defaultDistributionConfig(d Distribution) (*xnode, error) {
	var b bytes.Buffer
	esc := func(s string) string {
		var o bytes.Buffer
		_ = xml.EscapeText(&o, []byte(s))
		return o.String()
	}
	enabled := d.Enabled == nil || *d.Enabled
	fmt.Fprintf(&b, "<DistributionConfig><CallerReference>%s</CallerReference>", esc(d.CallerReference))
	fmt.Fprintf(&b, "<Aliases><Quantity>%d</Quantity>", len(d.Aliases))
	if len(d.Aliases) > 0 {
		b.WriteString("<Items>")
		for _, a := range d.Aliases {
			fmt.Fprintf(&b, "<CNAME>%s</CNAME>", esc(a))
		}
		b.WriteString("</Items>")
	}
	fmt.Fprintf(&b, "</Aliases><DefaultRootObject>%s</DefaultRootObject>", esc(d.DefaultRootObject))
	fmt.Fprintf(&b, "<Origins><Quantity>%d</Quantity><Items>", len(d.Origins))
	for _, o := range d.Origins {
		fmt.Fprintf(&b, "<Origin><Id>%s</Id><DomainName>%s</DomainName><OriginPath>%s</OriginPath><CustomHeaders><Quantity>0</Quantity></CustomHeaders>",
			esc(o.ID), esc(o.DomainName), esc(o.OriginPath))
		if strings.Contains(o.DomainName, ".s3.") || strings.HasSuffix(o.DomainName, ".s3.amazonaws.com") {
			b.WriteString("<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>")
		} else {
			b.WriteString("<CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy>" +
				"<OriginSslProtocols><Quantity>1</Quantity><Items><SslProtocol>TLSv1.2</SslProtocol></Items></OriginSslProtocols>" +
				"<OriginReadTimeout>30</OriginReadTimeout><OriginKeepaliveTimeout>5</OriginKeepaliveTimeout></CustomOriginConfig>")
		}
		b.WriteString("<ConnectionAttempts>3</ConnectionAttempts><ConnectionTimeout>10</ConnectionTimeout><OriginShield><Enabled>false</Enabled></OriginShield><OriginAccessControlId></OriginAccessControlId></Origin>")
	}
	target := ""
	if len(d.Origins) > 0 {
		target = d.Origins[0].ID
	}
	fmt.Fprintf(&b, "</Items></Origins><OriginGroups><Quantity>0</Quantity></OriginGroups>"+
		"<DefaultCacheBehavior><TargetOriginId>%s</TargetOriginId>"+
		"<TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>"+
		"<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>"+
		"<ViewerProtocolPolicy>%s</ViewerProtocolPolicy>"+
		"<AllowedMethods><Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items>"+
		"<CachedMethods><Quantity>2</Quantity><Items><Method>HEAD</Method><Method>GET</Method></Items></CachedMethods></AllowedMethods>"+
		"<SmoothStreaming>false</SmoothStreaming><Compress>true</Compress>"+
		"<LambdaFunctionAssociations><Quantity>0</Quantity></LambdaFunctionAssociations>"+
		"<FunctionAssociations><Quantity>0</Quantity></FunctionAssociations>"+
		"<FieldLevelEncryptionId></FieldLevelEncryptionId><CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>"+
		"</DefaultCacheBehavior><CacheBehaviors><Quantity>0</Quantity></CacheBehaviors>"+
		"<CustomErrorResponses><Quantity>0</Quantity></CustomErrorResponses><Comment>%s</Comment>",
		esc(target), esc(d.ViewerProtocolPolicy), esc(d.Comment))
	if d.Logging != nil {
		fmt.Fprintf(&b, "<Logging><Enabled>true</Enabled><IncludeCookies>%t</IncludeCookies><Bucket>%s</Bucket><Prefix>%s</Prefix></Logging>",
			d.Logging.IncludeCookies, esc(d.Logging.Bucket), esc(d.Logging.Prefix))
	} else {
		b.WriteString("<Logging><Enabled>false</Enabled><IncludeCookies>false</IncludeCookies><Bucket></Bucket><Prefix></Prefix></Logging>")
	}
	fmt.Fprintf(&b, "<PriceClass>%s</PriceClass><Enabled>%t</Enabled>"+
		"<ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate><SSLSupportMethod>vip</SSLSupportMethod>"+
		"<MinimumProtocolVersion>TLSv1</MinimumProtocolVersion><CertificateSource>cloudfront</CertificateSource></ViewerCertificate>"+
		"<Restrictions><GeoRestriction><RestrictionType>none</RestrictionType><Quantity>0</Quantity></GeoRestriction></Restrictions>"+
		"<WebACLId>%s</WebACLId><HttpVersion>http2</HttpVersion><IsIPV6Enabled>true</IsIPV6Enabled>"+
		"<ContinuousDeploymentPolicyId></ContinuousDeploymentPolicyId><Staging>false</Staging></DistributionConfig>",
		esc(d.PriceClass), enabled, esc(d.WebACLID))
	var n xnode
	if err := xml.Unmarshal(b.Bytes(), &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// AddDistributions adds CloudFront distributions to an account (Go API for
// seeding). Missing ids, caller references and origin ids get defaults.
func (s *Sim) AddDistributions(account string, dists ...Distribution) error {
	if _, err := s.account(account); err != nil {
		return err
	}
	svc, _ := s.service("cloudfront").(*cloudfrontService)
	if svc == nil {
		return fmt.Errorf("add distributions: %w: cloudfront not registered", ErrInvalidScenario)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	ds := svc.dists[account]
	if ds == nil {
		ds = map[string]*cfDistribution{}
		svc.dists[account] = ds
	}
	for _, d := range dists {
		if len(d.Origins) == 0 {
			return fmt.Errorf("distribution %q: %w: at least one origin is required", d.ID, ErrInvalidScenario)
		}
		d.Origins = append([]DistributionOrigin(nil), d.Origins...)
		for i := range d.Origins {
			if d.Origins[i].ID == "" {
				d.Origins[i].ID = d.Origins[i].DomainName
			}
		}
		if d.CallerReference == "" {
			d.CallerReference = fmt.Sprintf("steward-sim-%d", s.nextID())
		}
		if d.ViewerProtocolPolicy == "" {
			d.ViewerProtocolPolicy = "allow-all"
		}
		if d.PriceClass == "" {
			d.PriceClass = "PriceClass_All"
		}
		cfg, err := defaultDistributionConfig(d)
		if err != nil {
			return fmt.Errorf("distribution %q: %w", d.ID, err)
		}
		cd := svc.newDistribution(account, d.ID, cfg)
		if d.Status != "InProgress" {
			cd.status = "Deployed"
		}
		cd.tags = d.Tags.clone()
		ds[cd.id] = cd
	}
	return nil
}

// DistributionConfigXML returns a distribution's stored DistributionConfig
// document (for tests), or "" when it does not exist.
func (s *Sim) DistributionConfigXML(account, id string) string {
	svc, _ := s.service("cloudfront").(*cloudfrontService)
	if svc == nil {
		return ""
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	d := svc.dists[account][id]
	if d == nil {
		return ""
	}
	b, _ := xml.Marshal(d.config)
	return string(b)
}
