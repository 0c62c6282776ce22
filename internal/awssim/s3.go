package awssim

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Bucket is an S3 bucket. Bucket names are global across the sim's
// accounts, as in AWS; each bucket has a home region.
type Bucket struct {
	Name         string    `yaml:"name"`
	Region       string    `yaml:"region"`
	CreationDate time.Time `yaml:"creation_date"`
	// Policy is the bucket policy JSON, empty for none.
	Policy            string             `yaml:"policy"`
	PublicAccessBlock *PublicAccessBlock `yaml:"public_access_block"`
	// Tags nil means no tag set (GetBucketTagging answers NoSuchTagSet).
	Tags    Tags           `yaml:"tags"`
	Website *BucketWebsite `yaml:"website"`
	// Objects are object keys with their sizes; PutObject adds to them.
	Objects map[string]int64 `yaml:"objects"`

	owner   string
	objMeta map[string]s3Object
}

type s3Object struct {
	size     int64
	etag     string
	modified time.Time
}

// PublicAccessBlock is an S3 public access block configuration (bucket or
// account level).
type PublicAccessBlock struct {
	BlockPublicAcls       bool `yaml:"block_public_acls" xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool `yaml:"ignore_public_acls" xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool `yaml:"block_public_policy" xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool `yaml:"restrict_public_buckets" xml:"RestrictPublicBuckets"`
}

// BucketWebsite is a bucket's static website configuration.
type BucketWebsite struct {
	IndexDocument string `yaml:"index_document"`
	ErrorDocument string `yaml:"error_document"`
	RedirectTo    string `yaml:"redirect_all_requests_to"`
}

// s3Service serves S3 and S3 Control (both signed as "s3"). Its state is
// global to the sim: bucket names are unique across accounts.
type s3Service struct {
	sim *Sim

	mu         sync.Mutex
	buckets    map[string]*Bucket            // by name
	accountPAB map[string]*PublicAccessBlock // S3 Control, by account
}

func newS3(s *Sim) *s3Service {
	return &s3Service{sim: s, buckets: map[string]*Bucket{}, accountPAB: map[string]*PublicAccessBlock{}}
}

func (s *s3Service) SigningName() string { return "s3" }

// s3Route is a parsed S3 request target.
type s3Route struct {
	op      string
	bucket  string
	key     string
	control bool
}

// s3Subresources are the query keys that select a bucket sub-resource.
var s3Subresources = []string{"publicAccessBlock", "policyStatus", "policy", "tagging", "website", "location", "acl", "versioning", "encryption", "logging", "cors", "lifecycle", "notification", "replication", "ownershipControls", "uploads", "versions", "object-lock", "accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering"}

// routeS3 maps method, host, path and query to an operation. It never
// panics on any input (FuzzRESTRoute).
func routeS3(method, host, rawPath string, q url.Values) (s3Route, error) {
	p := rawPath
	if un, err := url.PathUnescape(rawPath); err == nil {
		p = un
	}
	if rest, ok := strings.CutPrefix(p, "/v20180820/"); ok {
		rt := s3Route{control: true}
		if rest != "configuration/publicAccessBlock" {
			return rt, s3Unsupported(method, p)
		}
		switch method {
		case http.MethodGet:
			rt.op = "GetPublicAccessBlock"
		case http.MethodPut:
			rt.op = "PutPublicAccessBlock"
		case http.MethodDelete:
			rt.op = "DeletePublicAccessBlock"
		default:
			return rt, s3Unsupported(method, p)
		}
		return rt, nil
	}
	var rt s3Route
	path := strings.TrimPrefix(p, "/")
	if b := virtualHostBucket(host); b != "" {
		rt.bucket, rt.key = b, path
	} else {
		rt.bucket, rt.key, _ = strings.Cut(path, "/")
	}
	if rt.bucket == "" {
		if method == http.MethodGet {
			rt.op = "ListBuckets"
			return rt, nil
		}
		return rt, s3Unsupported(method, p)
	}
	if rt.key != "" {
		switch method {
		case http.MethodPut:
			rt.op = "PutObject"
		case http.MethodHead:
			rt.op = "HeadObject"
		case http.MethodGet:
			rt.op = "GetObject"
		case http.MethodDelete:
			rt.op = "DeleteObject"
		default:
			return rt, s3Unsupported(method, p)
		}
		return rt, nil
	}
	sub := ""
	for _, k := range s3Subresources {
		if _, ok := q[k]; ok {
			sub = k
			break
		}
	}
	verb := map[string]string{http.MethodGet: "Get", http.MethodPut: "Put", http.MethodDelete: "Delete"}[method]
	switch sub {
	case "":
		switch method {
		case http.MethodHead:
			rt.op = "HeadBucket"
		case http.MethodPut:
			rt.op = "CreateBucket"
		case http.MethodDelete:
			rt.op = "DeleteBucket"
		case http.MethodGet:
			rt.op = "ListObjects"
			if q.Get("list-type") == "2" {
				rt.op = "ListObjectsV2"
			}
		}
	case "publicAccessBlock":
		if verb != "" {
			rt.op = verb + "PublicAccessBlock"
		}
	case "policy":
		if verb != "" {
			rt.op = verb + "BucketPolicy"
		}
	case "policyStatus":
		if method == http.MethodGet {
			rt.op = "GetBucketPolicyStatus"
		}
	case "tagging":
		if verb != "" {
			rt.op = verb + "BucketTagging"
		}
	case "website":
		if verb != "" {
			rt.op = verb + "BucketWebsite"
		}
	case "location":
		if method == http.MethodGet {
			rt.op = "GetBucketLocation"
		}
	}
	if rt.op == "" {
		return rt, s3Unsupported(method, p)
	}
	return rt, nil
}

// virtualHostBucket returns the bucket of a virtual-hosted-style request
// (BUCKET.s3.REGION.amazonaws.com, BUCKET.s3.amazonaws.com,
// BUCKET.localhost), or "" for a path-style one.
func virtualHostBucket(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(h)
	if h == "" || net.ParseIP(h) != nil || h == "localhost" {
		return ""
	}
	if b, ok := strings.CutSuffix(h, ".localhost"); ok {
		return b
	}
	if i := strings.Index(h, ".s3."); i > 0 {
		return h[:i]
	}
	if i := strings.Index(h, ".s3-"); i > 0 {
		return h[:i]
	}
	return ""
}

func s3Unsupported(method, path string) error {
	return &APIError{Status: http.StatusNotImplemented, Code: "NotImplemented",
		Message: fmt.Sprintf("A header or query you provided implies functionality that is not implemented (%s %s)", method, path), Sender: true}
}

func (s *s3Service) Operation(r *Request) (string, error) {
	rt, err := routeS3(r.HTTP.Method, r.HTTP.Host, r.HTTP.URL.EscapedPath(), r.HTTP.URL.Query())
	return rt.op, err
}

func (s *s3Service) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	if strings.HasPrefix(r.HTTP.URL.Path, "/v20180820/") {
		w.Header().Set("x-amz-request-id", r.RequestID)
		writeRESTXMLError(w, r, "", e)
		return
	}
	switch e.Code {
	case "InvalidClientTokenId":
		e = &APIError{Status: 403, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records.", Sender: true}
	case "ExpiredToken":
		e = &APIError{Status: 400, Code: "ExpiredToken", Message: "The provided token has expired.", Sender: true}
	}
	writeS3Error(w, r, e, "")
}

// writeS3Error writes S3's error shape: <Error><Code/><Message/>..<RequestId/><HostId/></Error>.
// HEAD answers carry no body.
func writeS3Error(w http.ResponseWriter, r *Request, e *APIError, bucket string) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<Error><Code>")
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message>")
	if bucket != "" {
		buf.WriteString("<BucketName>")
		_ = xml.EscapeText(&buf, []byte(bucket))
		buf.WriteString("</BucketName>")
	}
	buf.WriteString("<RequestId>")
	_ = xml.EscapeText(&buf, []byte(r.RequestID))
	buf.WriteString("</RequestId><HostId>")
	_ = xml.EscapeText(&buf, []byte(s3HostID(r.RequestID)))
	buf.WriteString("</HostId></Error>")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", r.RequestID)
	w.Header().Set("x-amz-id-2", s3HostID(r.RequestID))
	w.WriteHeader(e.status())
	if r.HTTP.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func s3HostID(reqID string) string {
	sum := md5.Sum([]byte(reqID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// s3Error is an S3 error that names the bucket in its body.
type s3Error struct {
	*APIError
	bucket string
}

func noSuchBucket(name string) error {
	return &s3Error{&APIError{Status: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist", Sender: true}, name}
}

func s3Err(status int, code, msg, bucket string) error {
	return &s3Error{&APIError{Status: status, Code: code, Message: msg, Sender: true}, bucket}
}

func (s *s3Service) Serve(w http.ResponseWriter, r *Request) {
	rt, err := routeS3(r.HTTP.Method, r.HTTP.Host, r.HTTP.URL.EscapedPath(), r.HTTP.URL.Query())
	if err == nil {
		s.mu.Lock()
		if rt.control {
			err = s.serveControl(w, r)
		} else {
			err = s.serveS3(w, r, rt)
		}
		s.mu.Unlock()
	}
	if err != nil {
		if se, ok := err.(*s3Error); ok {
			writeS3Error(w, r, se.APIError, se.bucket)
			return
		}
		s.WriteError(w, r, asAPIError(err))
	}
}

func (s *s3Service) serveControl(w http.ResponseWriter, r *Request) error {
	acct := r.HTTP.Header.Get("x-amz-account-id")
	if acct == "" {
		return apiErr("InvalidRequest", "Missing required header for this request: x-amz-account-id")
	}
	if acct != r.Account {
		e := apiErr("AccessDenied", "Access Denied")
		e.Status = 403
		return e
	}
	switch r.Action {
	case "GetPublicAccessBlock":
		pab := s.accountPAB[acct]
		if pab == nil {
			return &APIError{Status: 404, Code: "NoSuchPublicAccessBlockConfiguration",
				Message: "The public access block configuration was not found", Sender: true}
		}
		writeS3XML(w, r, http.StatusOK, xPAB{PublicAccessBlock: *pab})
	case "PutPublicAccessBlock":
		var in xPAB
		if err := decodeXMLBody(r.Body, &in); err != nil {
			return err
		}
		pab := in.PublicAccessBlock
		s.accountPAB[acct] = &pab
		s3NoContent(w, r, http.StatusOK)
	case "DeletePublicAccessBlock":
		delete(s.accountPAB, acct)
		s3NoContent(w, r, http.StatusNoContent)
	}
	return nil
}

type xPAB struct {
	XMLName xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	PublicAccessBlock
}

func writeS3XML(w http.ResponseWriter, r *Request, status int, v any) {
	w.Header().Set("x-amz-request-id", r.RequestID)
	writeXMLDoc(w, r, status, v)
}

func s3NoContent(w http.ResponseWriter, r *Request, status int) {
	w.Header().Set("x-amz-request-id", r.RequestID)
	w.WriteHeader(status)
}

// bucketFor returns the named bucket when the caller's account owns it.
func (s *s3Service) bucketFor(r *Request, name string) (*Bucket, error) {
	b := s.buckets[name]
	if b == nil {
		return nil, noSuchBucket(name)
	}
	if b.owner != r.Account {
		return nil, s3Err(403, "AccessDenied", "Access Denied", "")
	}
	return b, nil
}

func (s *s3Service) serveS3(w http.ResponseWriter, r *Request, rt s3Route) error {
	if rt.op == "ListBuckets" {
		return s.listBuckets(w, r)
	}
	if rt.op == "CreateBucket" {
		return s.createBucket(w, r, rt.bucket)
	}
	b, err := s.bucketFor(r, rt.bucket)
	if err != nil {
		return err
	}
	if b.Region != r.Region && rt.op != "GetBucketLocation" {
		// A request signed for another region than the bucket's: S3
		// names the right one (HeadBucket in a header, as its answer has
		// no body).
		w.Header().Set("x-amz-bucket-region", b.Region)
		if rt.op == "HeadBucket" {
			return s3Err(301, "PermanentRedirect", "", b.Name)
		}
		return s3Err(400, "AuthorizationHeaderMalformed",
			fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", r.Region, b.Region), "")
	}
	switch rt.op {
	case "HeadBucket":
		w.Header().Set("x-amz-bucket-region", b.Region)
		s3NoContent(w, r, http.StatusOK)
	case "DeleteBucket":
		if len(b.objMeta) > 0 {
			return s3Err(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", b.Name)
		}
		delete(s.buckets, b.Name)
		s3NoContent(w, r, http.StatusNoContent)
	case "GetBucketLocation":
		loc := b.Region
		if loc == "us-east-1" {
			loc = ""
		}
		writeS3XML(w, r, http.StatusOK, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			Xmlns   string   `xml:"xmlns,attr"`
			Value   string   `xml:",chardata"`
		}{Xmlns: s3Namespace, Value: loc})
	case "GetPublicAccessBlock":
		if b.PublicAccessBlock == nil {
			return s3Err(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", b.Name)
		}
		writeS3XML(w, r, http.StatusOK, xPAB{Xmlns: s3Namespace, PublicAccessBlock: *b.PublicAccessBlock})
	case "PutPublicAccessBlock":
		var in xPAB
		if err := decodeXMLBody(r.Body, &in); err != nil {
			return err
		}
		pab := in.PublicAccessBlock
		b.PublicAccessBlock = &pab
		s3NoContent(w, r, http.StatusOK)
	case "DeletePublicAccessBlock":
		b.PublicAccessBlock = nil
		s3NoContent(w, r, http.StatusNoContent)
	case "GetBucketPolicy":
		if b.Policy == "" {
			return s3Err(404, "NoSuchBucketPolicy", "The bucket policy does not exist", b.Name)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amz-request-id", r.RequestID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(b.Policy))
	case "PutBucketPolicy":
		if err := checkBucketPolicy(r.Body); err != nil {
			return err
		}
		acct := s.accountPAB[b.owner]
		blocked := (b.PublicAccessBlock != nil && b.PublicAccessBlock.BlockPublicPolicy) || (acct != nil && acct.BlockPublicPolicy)
		if blocked && policyIsPublic(string(r.Body)) {
			// BlockPublicPolicy (bucket or account level) refuses a public policy.
			return s3Err(403, "AccessDenied", "Access Denied", "")
		}
		b.Policy = string(r.Body)
		s3NoContent(w, r, http.StatusNoContent)
	case "DeleteBucketPolicy":
		b.Policy = ""
		s3NoContent(w, r, http.StatusNoContent)
	case "GetBucketPolicyStatus":
		if b.Policy == "" {
			return s3Err(404, "NoSuchBucketPolicy", "The bucket policy does not exist", b.Name)
		}
		writeS3XML(w, r, http.StatusOK, struct {
			XMLName  xml.Name `xml:"PolicyStatus"`
			Xmlns    string   `xml:"xmlns,attr"`
			IsPublic bool     `xml:"IsPublic"`
		}{Xmlns: s3Namespace, IsPublic: policyIsPublic(b.Policy)})
	case "GetBucketTagging":
		if b.Tags == nil {
			return s3Err(404, "NoSuchTagSet", "The TagSet does not exist", b.Name)
		}
		out := xTagging{Xmlns: s3Namespace}
		for _, t := range b.Tags {
			out.Tags = append(out.Tags, xS3Tag(t))
		}
		writeS3XML(w, r, http.StatusOK, out)
	case "PutBucketTagging":
		var in xTagging
		if err := decodeXMLBody(r.Body, &in); err != nil {
			return err
		}
		tags := Tags{}
		seen := map[string]bool{}
		for _, t := range in.Tags {
			if seen[t.Key] {
				return s3Err(400, "InvalidTag", "Cannot provide multiple Tags with the same key", "")
			}
			if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
				return s3Err(400, "InvalidTag", "System tags cannot be added/updated by requester", "")
			}
			seen[t.Key] = true
			tags = append(tags, Tag(t))
		}
		if len(tags) > 50 {
			return s3Err(400, "BadRequest", "Object tags cannot be greater than 50", "")
		}
		b.Tags = tags
		s3NoContent(w, r, http.StatusNoContent)
	case "DeleteBucketTagging":
		b.Tags = nil
		s3NoContent(w, r, http.StatusNoContent)
	case "GetBucketWebsite":
		if b.Website == nil {
			return s3Err(404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", b.Name)
		}
		writeS3XML(w, r, http.StatusOK, xWebsiteOf(b.Website))
	case "DeleteBucketWebsite":
		b.Website = nil
		s3NoContent(w, r, http.StatusNoContent)
	case "PutObject":
		data, err := s3Payload(r)
		if err != nil {
			return err
		}
		sum := md5.Sum(data)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		if b.objMeta == nil {
			b.objMeta = map[string]s3Object{}
		}
		b.objMeta[s3Key(r)] = s3Object{size: int64(len(data)), etag: etag, modified: s.sim.Now()}
		w.Header().Set("ETag", etag)
		s3NoContent(w, r, http.StatusOK)
	case "HeadObject":
		o, ok := b.objMeta[s3Key(r)]
		if !ok {
			return s3Err(404, "NotFound", "Not Found", "")
		}
		w.Header().Set("ETag", o.etag)
		w.Header().Set("Content-Length", strconv.FormatInt(o.size, 10))
		w.Header().Set("Last-Modified", o.modified.UTC().Format(http.TimeFormat))
		s3NoContent(w, r, http.StatusOK)
	case "DeleteObject":
		// Deleting a missing key succeeds, as in S3.
		delete(b.objMeta, s3Key(r))
		s3NoContent(w, r, http.StatusNoContent)
	case "ListObjects", "ListObjectsV2":
		return s.listObjects(w, r, b, rt.op == "ListObjectsV2")
	default:
		return s3Unsupported(r.HTTP.Method, r.HTTP.URL.Path)
	}
	return nil
}

// s3Key returns the object key of a request (path- or virtual-host-style).
func s3Key(r *Request) string {
	rt, _ := routeS3(r.HTTP.Method, r.HTTP.Host, r.HTTP.URL.EscapedPath(), r.HTTP.URL.Query())
	return rt.key
}

// s3Payload returns the object data, decoding aws-chunked uploads.
func s3Payload(r *Request) ([]byte, error) {
	sha := r.HTTP.Header.Get("X-Amz-Content-Sha256")
	if !strings.HasPrefix(sha, "STREAMING-") && !strings.Contains(r.HTTP.Header.Get("Content-Encoding"), "aws-chunked") {
		return r.Body, nil
	}
	var out []byte
	br := bufio.NewReader(bytes.NewReader(r.Body))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, s3Err(400, "IncompleteBody", "The request body terminated unexpectedly", "")
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || n < 0 || n > int64(len(r.Body)) {
			return nil, s3Err(400, "IncompleteBody", "The request body terminated unexpectedly", "")
		}
		if n == 0 {
			return out, nil
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, s3Err(400, "IncompleteBody", "The request body terminated unexpectedly", "")
		}
		out = append(out, chunk...)
		_, _ = br.ReadString('\n')
	}
}

func checkBucketPolicy(body []byte) error {
	trim := bytes.TrimSpace(body)
	var v map[string]any
	if len(trim) == 0 || trim[0] != '{' || json.Unmarshal(trim, &v) != nil {
		return s3Err(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'", "")
	}
	if _, ok := v["Statement"]; !ok {
		return s3Err(400, "MalformedPolicy", "Missing required field Statement", "")
	}
	return nil
}

// policyIsPublic reports whether a bucket policy grants access to everyone:
// an Allow statement with Principal "*" (or AWS "*") and no Condition.
func policyIsPublic(doc string) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	for _, st := range stmts {
		if st["Effect"] != "Allow" || st["Condition"] != nil {
			continue
		}
		switch pr := st["Principal"].(type) {
		case string:
			if pr == "*" {
				return true
			}
		case map[string]any:
			switch a := pr["AWS"].(type) {
			case string:
				if a == "*" {
					return true
				}
			case []any:
				for _, x := range a {
					if x == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}

type xS3Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xTagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Tags    []xS3Tag `xml:"TagSet>Tag"`
}

type xWebsite struct {
	XMLName     xml.Name `xml:"WebsiteConfiguration"`
	Xmlns       string   `xml:"xmlns,attr"`
	RedirectAll *struct {
		HostName string `xml:"HostName"`
	} `xml:"RedirectAllRequestsTo,omitempty"`
	IndexDocument *struct {
		Suffix string `xml:"Suffix"`
	} `xml:"IndexDocument,omitempty"`
	ErrorDocument *struct {
		Key string `xml:"Key"`
	} `xml:"ErrorDocument,omitempty"`
}

func xWebsiteOf(ws *BucketWebsite) xWebsite {
	out := xWebsite{Xmlns: s3Namespace}
	if ws.RedirectTo != "" {
		out.RedirectAll = &struct {
			HostName string `xml:"HostName"`
		}{ws.RedirectTo}
	}
	if ws.IndexDocument != "" {
		out.IndexDocument = &struct {
			Suffix string `xml:"Suffix"`
		}{ws.IndexDocument}
	}
	if ws.ErrorDocument != "" {
		out.ErrorDocument = &struct {
			Key string `xml:"Key"`
		}{ws.ErrorDocument}
	}
	return out
}

func (s *s3Service) listBuckets(w http.ResponseWriter, r *Request) error {
	q := r.HTTP.URL.Query()
	var names []string
	for n, b := range s.buckets {
		if b.owner == r.Account && (q.Get("bucket-region") == "" || q.Get("bucket-region") == b.Region) &&
			strings.HasPrefix(n, q.Get("prefix")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start := 0
	if tok := q.Get("continuation-token"); tok != "" {
		after, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return s3Err(400, "InvalidArgument", "The continuation token provided is incorrect", "")
		}
		start = sort.SearchStrings(names, string(after)+"\x00")
	}
	limit := 10000
	if m := q.Get("max-buckets"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 10000 {
			return s3Err(400, "InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000", "")
		}
		limit = n
	}
	type xB struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion"`
	}
	out := struct {
		XMLName           xml.Name `xml:"ListAllMyBucketsResult"`
		Xmlns             string   `xml:"xmlns,attr"`
		OwnerID           string   `xml:"Owner>ID"`
		Buckets           []xB     `xml:"Buckets>Bucket"`
		ContinuationToken string   `xml:"ContinuationToken,omitempty"`
		Prefix            string   `xml:"Prefix,omitempty"`
	}{Xmlns: s3Namespace, OwnerID: canonicalUserID(r.Account), Prefix: q.Get("prefix")}
	end := min(len(names), start+limit)
	for _, n := range names[min(start, end):end] {
		b := s.buckets[n]
		out.Buckets = append(out.Buckets, xB{Name: n, CreationDate: isoTime(b.CreationDate), BucketRegion: b.Region})
	}
	if end < len(names) {
		out.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(names[end-1]))
	}
	writeS3XML(w, r, http.StatusOK, out)
	return nil
}

func canonicalUserID(account string) string {
	return fmt.Sprintf("%064x", hashString(account))[:64]
}

// validBucketName checks the S3 bucket naming rules (general purpose buckets).
func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 || net.ParseIP(n) != nil {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(n)-1 {
				return false
			}
		default:
			return false
		}
	}
	return !strings.Contains(n, "..")
}

func (s *s3Service) createBucket(w http.ResponseWriter, r *Request, name string) error {
	if !validBucketName(name) {
		return s3Err(400, "InvalidBucketName", "The specified bucket is not valid.", name)
	}
	var cfg struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	if len(bytes.TrimSpace(r.Body)) > 0 {
		if err := decodeXMLBody(r.Body, &cfg); err != nil {
			return err
		}
	}
	region := cfg.LocationConstraint
	if region == "" {
		if r.Region != "us-east-1" {
			return s3Err(400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.", "")
		}
		region = "us-east-1"
	} else if region != r.Region {
		return s3Err(400, "IllegalLocationConstraintException", fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", region), "")
	}
	if b := s.buckets[name]; b != nil {
		if b.owner == r.Account {
			return s3Err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", name)
		}
		return s3Err(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", name)
	}
	s.buckets[name] = &Bucket{Name: name, Region: region, CreationDate: s.sim.Now(), owner: r.Account,
		PublicAccessBlock: &PublicAccessBlock{true, true, true, true}}
	w.Header().Set("Location", "/"+name)
	s3NoContent(w, r, http.StatusOK)
	return nil
}

func (s *s3Service) listObjects(w http.ResponseWriter, r *Request, b *Bucket, v2 bool) error {
	q := r.HTTP.URL.Query()
	prefix := q.Get("prefix")
	maxKeys := 1000
	if m := q.Get("max-keys"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return s3Err(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", "")
		}
		maxKeys = min(n, 1000)
	}
	after := q.Get("start-after")
	if !v2 {
		after = q.Get("marker")
	}
	if tok := q.Get("continuation-token"); v2 && tok != "" {
		k, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return s3Err(400, "InvalidArgument", "The continuation token provided is incorrect", "")
		}
		after = string(k)
	}
	var keys []string
	for k := range b.objMeta {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	truncated := len(keys) > maxKeys
	if truncated {
		keys = keys[:maxKeys]
	}
	type xObj struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	}
	out := struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		Xmlns                 string   `xml:"xmlns,attr"`
		Name                  string   `xml:"Name"`
		Prefix                string   `xml:"Prefix"`
		Marker                *string  `xml:"Marker,omitempty"`
		NextMarker            string   `xml:"NextMarker,omitempty"`
		KeyCount              *int     `xml:"KeyCount,omitempty"`
		MaxKeys               int      `xml:"MaxKeys"`
		IsTruncated           bool     `xml:"IsTruncated"`
		Contents              []xObj   `xml:"Contents"`
		ContinuationToken     string   `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string   `xml:"NextContinuationToken,omitempty"`
		StartAfter            string   `xml:"StartAfter,omitempty"`
	}{Xmlns: s3Namespace, Name: b.Name, Prefix: prefix, MaxKeys: maxKeys, IsTruncated: truncated}
	for _, k := range keys {
		o := b.objMeta[k]
		out.Contents = append(out.Contents, xObj{Key: k, LastModified: isoTime(o.modified), ETag: o.etag, Size: o.size, StorageClass: "STANDARD"})
	}
	if v2 {
		n := len(keys)
		out.KeyCount = &n
		out.ContinuationToken = q.Get("continuation-token")
		out.StartAfter = q.Get("start-after")
		if truncated && len(keys) > 0 {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(keys[len(keys)-1]))
		}
	} else {
		m := q.Get("marker")
		out.Marker = &m
		if truncated && len(keys) > 0 {
			out.NextMarker = keys[len(keys)-1]
		}
	}
	writeS3XML(w, r, http.StatusOK, out)
	return nil
}

// AddBuckets adds buckets owned by account (Go API for seeding). A bucket
// name already owned by another account is an error.
func (s *Sim) AddBuckets(account string, buckets ...Bucket) error {
	if _, err := s.account(account); err != nil {
		return err
	}
	svc, _ := s.service("s3").(*s3Service)
	if svc == nil {
		return fmt.Errorf("add buckets: %w: s3 service not registered", ErrInvalidScenario)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	now := s.Now()
	for _, b := range buckets {
		if !validBucketName(b.Name) {
			return fmt.Errorf("bucket %q: %w: invalid bucket name", b.Name, ErrInvalidScenario)
		}
		if old := svc.buckets[b.Name]; old != nil && old.owner != account {
			return fmt.Errorf("bucket %q: %w: owned by account %s", b.Name, ErrInvalidScenario, old.owner)
		}
		if b.Region == "" {
			b.Region = "us-east-1"
		}
		if b.CreationDate.IsZero() {
			b.CreationDate = now
		}
		b.owner = account
		b.Tags = b.Tags.clone()
		if b.PublicAccessBlock != nil {
			p := *b.PublicAccessBlock
			b.PublicAccessBlock = &p
		}
		if b.Website != nil {
			ws := *b.Website
			b.Website = &ws
		}
		b.objMeta = map[string]s3Object{}
		for k, size := range b.Objects {
			sum := md5.Sum([]byte(k))
			b.objMeta[k] = s3Object{size: size, etag: `"` + hex.EncodeToString(sum[:]) + `"`, modified: b.CreationDate}
		}
		b.Objects = nil
		nb := b
		svc.buckets[b.Name] = &nb
	}
	return nil
}

// SetAccountPublicAccessBlock sets (nil: removes) the account-level S3
// public access block that S3 Control serves.
func (s *Sim) SetAccountPublicAccessBlock(account string, pab *PublicAccessBlock) {
	svc, _ := s.service("s3").(*s3Service)
	if svc == nil {
		return
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if pab == nil {
		delete(svc.accountPAB, account)
		return
	}
	p := *pab
	svc.accountPAB[account] = &p
}

// Buckets returns copies of the buckets an account owns, by name.
func (s *Sim) Buckets(account string) []Bucket {
	svc, _ := s.service("s3").(*s3Service)
	if svc == nil {
		return nil
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	var out []Bucket
	for _, b := range svc.buckets {
		if b.owner == account {
			c := *b
			c.Tags = b.Tags.clone()
			c.Objects = map[string]int64{}
			for k, o := range b.objMeta {
				c.Objects[k] = o.size
			}
			c.objMeta = nil
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// service returns the registered service for a signing name, or nil.
func (s *Sim) service(name string) Service {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.services[name]
}
