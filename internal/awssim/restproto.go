package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// This file holds the wire helpers shared by the REST/XML services (s3,
// route53, cloudfront) and the JSON services (cloudtrail, organizations,
// tagging: awsJson1_1; securityhub: restJson1).

// writeXMLDoc writes v as an XML document with the given status.
func writeXMLDoc(w http.ResponseWriter, r *Request, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		writeRESTXMLError(w, r, "", &APIError{Status: 500, Code: "InternalError", Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeRESTXMLError writes the restXml error shape of Route 53 and
// CloudFront: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
func writeRESTXMLError(w http.ResponseWriter, r *Request, xmlns string, e *APIError) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if xmlns != "" {
		fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s"><Error><Type>`, xmlns)
	} else {
		buf.WriteString(`<ErrorResponse><Error><Type>`)
	}
	if e.Sender || e.status() < 500 {
		buf.WriteString("Sender")
	} else {
		buf.WriteString("Receiver")
	}
	buf.WriteString("</Type><Code>")
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message></Error><RequestId>")
	_ = xml.EscapeText(&buf, []byte(r.RequestID))
	buf.WriteString("</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(e.status())
	if r.HTTP.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// decodeXMLBody decodes a request body into v, as AWS reports a malformed one.
func decodeXMLBody(body []byte, v any) error {
	if err := xml.Unmarshal(body, v); err != nil {
		return apiErr("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	return nil
}

// epochSeconds is a timestamp as the JSON protocols write it: seconds
// since the epoch, with fractions.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return []byte(fmt.Sprintf("%.3f", float64(tt.UnixMilli())/1000)), nil
}

func (t *epochSeconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		var s string
		if err2 := json.Unmarshal(b, &s); err2 != nil {
			return err
		}
		tt, err2 := time.Parse(time.RFC3339Nano, s)
		if err2 != nil {
			return err2
		}
		*t = epochSeconds(tt)
		return nil
	}
	sec := int64(f)
	*t = epochSeconds(time.Unix(sec, int64((f-float64(sec))*1e9)).UTC())
	return nil
}

// jsonHandler serves one JSON operation: it decodes body itself and returns
// the output value (marshalled with encoding/json) or an error.
type jsonHandler func(r *Request, body []byte) (any, error)

// jsonService is an awsJson1_1 service: the operation is named by the
// X-Amz-Target header "Prefix.Operation".
type jsonService struct {
	name   string // signing name
	prefix string // target prefix, e.g. "CloudTrail_20131101"
	ops    map[string]jsonHandler
}

func (j *jsonService) SigningName() string { return j.name }

func (j *jsonService) Operation(r *Request) (string, error) {
	target := r.HTTP.Header.Get("X-Amz-Target")
	i := strings.LastIndex(target, ".")
	if i < 0 {
		return "", &APIError{Status: 400, Code: "UnknownOperationException", Message: "", Sender: true}
	}
	pfx, op := target[:i], target[i+1:]
	// The target prefix may carry the Smithy namespace
	// ("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101").
	if (pfx != j.prefix && !strings.HasSuffix(pfx, "."+j.prefix)) || r.HTTP.Method != http.MethodPost {
		return "", &APIError{Status: 400, Code: "UnknownOperationException", Message: "", Sender: true}
	}
	if _, known := j.ops[op]; !known {
		return op, &APIError{Status: 400, Code: "UnknownOperationException", Message: "", Sender: true}
	}
	return op, nil
}

func (j *jsonService) Serve(w http.ResponseWriter, r *Request) {
	h := j.ops[r.Action]
	if h == nil {
		j.WriteError(w, r, &APIError{Status: 400, Code: "UnknownOperationException", Sender: true})
		return
	}
	body := r.Body
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err := h(r, body)
	if err != nil {
		j.WriteError(w, r, asAPIError(err))
		return
	}
	writeJSON(w, r, http.StatusOK, "application/x-amz-json-1.1", out)
}

func (j *jsonService) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	writeJSONError(w, r, "application/x-amz-json-1.1", jsonAuthError(e))
}

// jsonAuthError renames the sim's generic credential errors as the JSON
// services answer them: an unknown key is UnrecognizedClientException (400).
func jsonAuthError(e *APIError) *APIError {
	if e.Code == "InvalidClientTokenId" {
		return &APIError{Status: 400, Code: "UnrecognizedClientException", Message: e.Message, Sender: true}
	}
	if e.Code == "ExpiredToken" {
		return &APIError{Status: 400, Code: "ExpiredTokenException", Message: "The security token included in the request is expired", Sender: true}
	}
	return e
}

// writeJSON writes v as a JSON body.
func writeJSON(w http.ResponseWriter, r *Request, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, r, contentType, &APIError{Status: 500, Code: "InternalFailure", Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSONError writes the JSON protocols' error shape: the code in the
// X-Amzn-ErrorType header and in "__type", the text in "message".
func writeJSONError(w http.ResponseWriter, r *Request, contentType string, e *APIError) {
	b, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// decodeJSONBody decodes a JSON request body, reporting a malformed one as
// AWS's SerializationException.
func decodeJSONBody(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Status: 400, Code: "SerializationException", Message: "Start of structure or map found where not expected.", Sender: true}
	}
	return nil
}

// pageToken encodes a paging position as an opaque token; parsePageToken
// reverses it and reports a token it did not make.
func pageToken(prefix string, n int) string { return fmt.Sprintf("%s%08d", prefix, n) }

func parsePageToken(prefix, tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok || len(rest) != 8 {
		return 0, false
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
