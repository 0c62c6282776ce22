package awssim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadQuery reports a query-protocol body that cannot be decoded.
var ErrBadQuery = errors.New("awssim: malformed query request")

// params holds the decoded parameters of a query-protocol request
// (Action=...&Version=...&Filter.1.Name=...).
type params map[string]string

// decodeQuery parses an application/x-www-form-urlencoded query-protocol
// body. The last value wins for a repeated key, as AWS does.
func decodeQuery(body []byte) (params, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	p := make(params, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			p[k] = v[len(v)-1]
		}
	}
	return p, nil
}

// get returns a parameter or "".
func (p params) get(key string) string { return p[key] }

// has reports whether a parameter is present.
func (p params) has(key string) bool { _, ok := p[key]; return ok }

// require returns a parameter or AWS's MissingParameter error.
func (p params) require(key string) (string, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return "", apiErr("MissingParameter", "The request must contain the parameter %s", key)
	}
	return v, nil
}

// int returns an integer parameter; ok is false when it is absent.
func (p params) int(key string) (n int, ok bool, err error) {
	v, present := p[key]
	if !present {
		return 0, false, nil
	}
	n, err = strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, true, apiErr("InvalidParameterValue", "Invalid value '%s' for %s", v, key)
	}
	return n, true, nil
}

// bool returns a boolean parameter; absent means false.
func (p params) bool(key string) bool {
	return strings.EqualFold(p[key], "true")
}

// indexed groups the parameters below prefix by their numeric index:
// for prefix "Filter", "Filter.2.Name=x" becomes index 2 -> {"Name": "x"}.
// The groups come back in index order.
func (p params) indexed(prefix string) []params {
	pre := prefix + "."
	groups := map[int]params{}
	for k, v := range p {
		if !strings.HasPrefix(k, pre) {
			continue
		}
		rest := k[len(pre):]
		idx, tail, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		g := groups[n]
		if g == nil {
			g = params{}
			groups[n] = g
		}
		g[tail] = v
	}
	keys := make([]int, 0, len(groups))
	for n := range groups {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]params, 0, len(keys))
	for _, n := range keys {
		out = append(out, groups[n])
	}
	return out
}

// list returns the scalar values of a flattened list: prefix.1, prefix.2, ...
func (p params) list(prefix string) []string {
	var out []string
	for _, g := range p.indexed(prefix) {
		if v, ok := g[""]; ok {
			out = append(out, v)
		}
	}
	return out
}

// sub returns the parameters below prefix (prefix.X=v becomes X=v).
func (p params) sub(prefix string) params {
	pre := prefix + "."
	out := params{}
	for k, v := range p {
		if strings.HasPrefix(k, pre) {
			out[k[len(pre):]] = v
		}
	}
	return out
}

// queryHandler serves one action of a query-protocol service. It returns
// the value to render inside the response (nil for none).
type queryHandler func(r *Request, p params) (any, error)

// queryService implements Service for the awsquery and ec2query protocols.
type queryService struct {
	name    string // SigV4 signing name
	xmlns   string // response namespace
	ec2     bool   // ec2query variant
	actions map[string]queryHandler
}

var _ Service = (*queryService)(nil)

func (q *queryService) SigningName() string { return q.name }

func (q *queryService) Operation(r *Request) (string, error) {
	body := r.Body
	if len(body) == 0 && r.HTTP != nil {
		body = []byte(r.HTTP.URL.RawQuery)
	}
	p, err := decodeQuery(body)
	if err != nil {
		return "", apiErr("MalformedQueryString", "%v", err)
	}
	r.params = p
	action := p.get("Action")
	if action == "" {
		return "", apiErr("MissingAction", "Missing Action")
	}
	if _, ok := q.actions[action]; !ok {
		return action, apiErr("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	return action, nil
}

func (q *queryService) Serve(w http.ResponseWriter, r *Request) {
	h := q.actions[r.Action]
	if h == nil {
		q.WriteError(w, r, apiErr("InvalidAction", "The action %s is not valid for this web service.", r.Action))
		return
	}
	result, err := h(r, r.params)
	if err != nil {
		q.WriteError(w, r, asAPIError(err))
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	var werr error
	if q.ec2 {
		werr = writeEC2Response(&buf, r.Action, q.xmlns, r.RequestID, result)
	} else {
		werr = writeQueryResponse(&buf, r.Action, q.xmlns, r.RequestID, result)
	}
	if werr != nil {
		q.WriteError(w, r, asAPIError(werr))
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	_, _ = w.Write(buf.Bytes())
}

func (q *queryService) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	if q.ec2 {
		writeEC2Error(w, r.RequestID, e)
		return
	}
	writeQueryError(w, r.RequestID, e)
}

// writeQueryResponse renders an awsquery response:
// <ActionResponse xmlns=..><ActionResult>..</ActionResult><ResponseMetadata>..
func writeQueryResponse(buf *bytes.Buffer, action, xmlns, requestID string, result any) error {
	fmt.Fprintf(buf, `<%sResponse xmlns="%s">`, action, xmlns)
	if result != nil {
		b, err := xml.Marshal(wrapped{name: action + "Result", v: result})
		if err != nil {
			return fmt.Errorf("render %s: %w", action, err)
		}
		buf.Write(b)
	}
	buf.WriteString("<ResponseMetadata><RequestId>")
	_ = xml.EscapeText(buf, []byte(requestID))
	fmt.Fprintf(buf, "</RequestId></ResponseMetadata></%sResponse>", action)
	return nil
}

// writeEC2Response renders an ec2query response:
// <ActionResponse xmlns=..><requestId>..</requestId>fields..</ActionResponse>
func writeEC2Response(buf *bytes.Buffer, action, xmlns, requestID string, result any) error {
	fmt.Fprintf(buf, `<%sResponse xmlns="%s"><requestId>`, action, xmlns)
	_ = xml.EscapeText(buf, []byte(requestID))
	buf.WriteString("</requestId>")
	if result != nil {
		b, err := xml.Marshal(wrapped{name: "x", v: result})
		if err != nil {
			return fmt.Errorf("render %s: %w", action, err)
		}
		// Drop the <x> wrapper: the fields go straight under the root.
		b = bytes.TrimPrefix(b, []byte("<x>"))
		b = bytes.TrimSuffix(b, []byte("</x>"))
		buf.Write(b)
	}
	fmt.Fprintf(buf, "</%sResponse>", action)
	return nil
}

// wrapped marshals v under an element with the given name.
type wrapped struct {
	name string
	v    any
}

func (w wrapped) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(w.v, xml.StartElement{Name: xml.Name{Local: w.name}})
}

func writeEC2Error(w http.ResponseWriter, requestID string, e *APIError) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<Response><Errors><Error><Code>")
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message></Error></Errors><RequestID>")
	_ = xml.EscapeText(&buf, []byte(requestID))
	buf.WriteString("</RequestID></Response>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.status())
	_, _ = w.Write(buf.Bytes())
}

func writeQueryError(w http.ResponseWriter, requestID string, e *APIError) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(`<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09"><Error><Type>`)
	if e.Sender {
		buf.WriteString("Sender")
	} else {
		buf.WriteString("Receiver")
	}
	buf.WriteString("</Type><Code>")
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message></Error><RequestId>")
	_ = xml.EscapeText(&buf, []byte(requestID))
	buf.WriteString("</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status())
	_, _ = w.Write(buf.Bytes())
}

// isoTime formats a timestamp as AWS's XML protocols do.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
