package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Finding is a Security Hub finding for seeding: an ASFF document given as
// a mapping (ASFF) or as JSON text (JSON). Region defaults to the finding's
// Region field, else us-east-1.
type Finding struct {
	Region string         `yaml:"region"`
	ASFF   map[string]any `yaml:"asff"`
	JSON   string         `yaml:"json"`
}

// securityhubService serves Security Hub (restJson1): BatchImportFindings,
// GetFindings and BatchUpdateFindings over findings kept per (account,
// region) as ASFF documents in the shared JSON value model.
type securityhubService struct {
	sim *Sim

	mu       sync.Mutex
	findings map[string][]map[string]any // "account/region" -> in import order
}

func newSecurityHub(s *Sim) *securityhubService {
	return &securityhubService{sim: s, findings: map[string][]map[string]any{}}
}

func (h *securityhubService) SigningName() string { return "securityhub" }

// securityhubRoute maps method and path to an operation.
func securityhubRoute(method, path string) (string, error) {
	p := strings.TrimSuffix(path, "/")
	switch {
	case method == http.MethodPost && p == "/findings":
		return "GetFindings", nil
	case method == http.MethodPost && p == "/findings/import":
		return "BatchImportFindings", nil
	case method == http.MethodPatch && p == "/findings/batchupdate":
		return "BatchUpdateFindings", nil
	}
	return "", &APIError{Status: 404, Code: "UnknownOperationException", Message: "Unknown operation " + method + " " + path, Sender: true}
}

func (h *securityhubService) Operation(r *Request) (string, error) {
	return securityhubRoute(r.HTTP.Method, r.HTTP.URL.Path)
}

func (h *securityhubService) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	e = jsonAuthError(e)
	b, _ := json.Marshal(map[string]string{"Code": e.Code, "Message": e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

func (h *securityhubService) Serve(w http.ResponseWriter, r *Request) {
	var out any
	var err error
	body := r.Body
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	h.mu.Lock()
	key := r.Account + "/" + r.Region
	switch r.Action {
	case "GetFindings":
		out, err = h.getFindings(key, body)
	case "BatchImportFindings":
		out, err = h.importFindings(key, body)
	case "BatchUpdateFindings":
		out, err = h.updateFindings(key, body)
	}
	h.mu.Unlock()
	if err != nil {
		h.WriteError(w, r, asAPIError(err))
		return
	}
	writeJSON(w, r, http.StatusOK, "application/json", out)
}

func shInvalid(format string, args ...any) error {
	return apiErr("InvalidInputException", format, args...)
}

// decodeUseNumber decodes JSON in the shared value model (json.Number).
func decodeUseNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &APIError{Status: 400, Code: "SerializationException", Message: "Unable to parse request body", Sender: true}
	}
	return nil
}

func jStr(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

var asffRequired = []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"}

// validateFinding checks the ASFF required attributes; it returns "" when
// the finding is acceptable.
func validateFinding(f map[string]any) string {
	for _, k := range asffRequired {
		if f[k] == nil {
			return fmt.Sprintf("Finding does not adhere to Amazon Finding Format. data should have required property '%s'", k)
		}
	}
	if _, ok := f["Types"]; !ok {
		if _, ok := f["FindingProviderFields"]; !ok {
			return "Finding does not adhere to Amazon Finding Format. data should have required property 'Types'"
		}
	}
	for _, k := range []string{"Id", "ProductArn", "GeneratorId", "AwsAccountId", "Title", "Description"} {
		if _, ok := f[k].(string); !ok {
			return fmt.Sprintf("Finding does not adhere to Amazon Finding Format. data.%s should be string", k)
		}
	}
	if rs, ok := f["Resources"].([]any); !ok || len(rs) == 0 {
		return "Finding does not adhere to Amazon Finding Format. data.Resources should NOT have fewer than 1 items"
	}
	return ""
}

func (h *securityhubService) find(key, id, product string) int {
	for i, f := range h.findings[key] {
		if jStr(f, "Id") == id && (product == "" || jStr(f, "ProductArn") == product) {
			return i
		}
	}
	return -1
}

// store adds or replaces a finding, keeping the workflow fields a customer
// set with BatchUpdateFindings, as Security Hub does on re-import.
func (h *securityhubService) store(key string, f map[string]any) {
	if _, ok := f["Workflow"].(map[string]any); !ok {
		f["Workflow"] = map[string]any{"Status": "NEW"}
	}
	if f["WorkflowState"] == nil {
		f["WorkflowState"] = "NEW"
	}
	if f["RecordState"] == nil {
		f["RecordState"] = "ACTIVE"
	}
	if i := h.find(key, jStr(f, "Id"), jStr(f, "ProductArn")); i >= 0 {
		old := h.findings[key][i]
		for _, k := range []string{"Workflow", "Note", "UserDefinedFields", "VerificationState"} {
			if old[k] != nil {
				f[k] = old[k]
			}
		}
		h.findings[key][i] = f
		return
	}
	h.findings[key] = append(h.findings[key], f)
}

func (h *securityhubService) importFindings(key string, body []byte) (any, error) {
	var in struct {
		Findings []map[string]any
	}
	if err := decodeUseNumber(body, &in); err != nil {
		return nil, err
	}
	if len(in.Findings) == 0 || len(in.Findings) > 100 {
		return nil, shInvalid("Findings must contain between 1 and 100 items")
	}
	type failed struct {
		ID           string `json:"Id"`
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	out := struct {
		FailedCount    int      `json:"FailedCount"`
		SuccessCount   int      `json:"SuccessCount"`
		FailedFindings []failed `json:"FailedFindings"`
	}{FailedFindings: []failed{}}
	for _, f := range in.Findings {
		if msg := validateFinding(f); msg != "" {
			out.FailedCount++
			id, _ := f["Id"].(string)
			out.FailedFindings = append(out.FailedFindings, failed{ID: id, ErrorCode: "InvalidInput", ErrorMessage: msg})
			continue
		}
		h.store(key, f)
		out.SuccessCount++
	}
	return out, nil
}

type shStringFilter struct {
	Value      string
	Comparison string
}

// shFilterFields maps GetFindings string filters to ASFF paths; a path
// through "Resources" matches any resource.
var shFilterFields = map[string][]string{
	"Id": {"Id"}, "ProductArn": {"ProductArn"}, "AwsAccountId": {"AwsAccountId"}, "GeneratorId": {"GeneratorId"},
	"Region": {"Region"}, "Title": {"Title"}, "ProductName": {"ProductName"}, "CompanyName": {"CompanyName"},
	"ComplianceStatus": {"Compliance", "Status"}, "WorkflowStatus": {"Workflow", "Status"}, "WorkflowState": {"WorkflowState"},
	"RecordState": {"RecordState"}, "SeverityLabel": {"Severity", "Label"}, "VerificationState": {"VerificationState"},
	"ResourceId": {"Resources", "Id"}, "ResourceType": {"Resources", "Type"}, "ResourceRegion": {"Resources", "Region"},
	"Type": {"Types"}, "ComplianceSecurityControlId": {"Compliance", "SecurityControlId"},
}

// fieldValues returns the values of a finding at a filter path.
func fieldValues(f map[string]any, path []string) []string {
	switch path[0] {
	case "Resources":
		var out []string
		rs, _ := f["Resources"].([]any)
		for _, x := range rs {
			if m, ok := x.(map[string]any); ok {
				out = append(out, jStr(m, path[1:]...))
			}
		}
		return out
	case "Types":
		var out []string
		ts, _ := f["Types"].([]any)
		for _, t := range ts {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return []string{jStr(f, path...)}
}

// matchString applies one field's filters: positive comparisons are ORed,
// negative ones ANDed, as Security Hub documents.
func matchString(vals []string, filters []shStringFilter) bool {
	anyPos, posHit := false, false
	for _, fl := range filters {
		switch fl.Comparison {
		case "EQUALS", "PREFIX", "CONTAINS":
			anyPos = true
			for _, v := range vals {
				if (fl.Comparison == "EQUALS" && v == fl.Value) || (fl.Comparison == "PREFIX" && strings.HasPrefix(v, fl.Value)) ||
					(fl.Comparison == "CONTAINS" && strings.Contains(v, fl.Value)) {
					posHit = true
				}
			}
		default:
			for _, v := range vals {
				if (fl.Comparison == "NOT_EQUALS" && v == fl.Value) || (fl.Comparison == "PREFIX_NOT_EQUALS" && strings.HasPrefix(v, fl.Value)) ||
					(fl.Comparison == "NOT_CONTAINS" && strings.Contains(v, fl.Value)) {
					return false
				}
			}
		}
	}
	return !anyPos || posHit
}

// shDateFields, shNumberFields and shMapFields are the GetFindings date,
// number and map filters the sim serves, with their ASFF paths.
var shDateFields = map[string][]string{"CreatedAt": {"CreatedAt"}, "UpdatedAt": {"UpdatedAt"},
	"FirstObservedAt": {"FirstObservedAt"}, "LastObservedAt": {"LastObservedAt"}, "NoteUpdatedAt": {"Note", "UpdatedAt"}}

var shNumberFields = map[string][]string{"SeverityNormalized": {"Severity", "Normalized"}, "SeverityProduct": {"Severity", "Product"},
	"Confidence": {"Confidence"}, "Criticality": {"Criticality"}}

var shMapFields = map[string]string{"ResourceTags": "Tags", "UserDefinedFields": "UserDefinedFields", "ProductFields": "ProductFields"}

// jNumber reads a number in the shared JSON value model.
func jNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func jPath(m map[string]any, path []string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// filterPredicate builds the test one GetFindings filter field applies.
// Filters on one field are ORed (negative string and map comparisons
// ANDed), fields are ANDed, as Security Hub documents.
func (h *securityhubService) filterPredicate(name string, raw json.RawMessage) (func(map[string]any) bool, error) {
	if path, ok := shFilterFields[name]; ok {
		var fs []shStringFilter
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, shInvalid("Invalid filter %s", name)
		}
		for _, f := range fs {
			if !shComparisons[f.Comparison] {
				return nil, shInvalid("Invalid comparison %q for filter %s", f.Comparison, name)
			}
		}
		return func(f map[string]any) bool { return matchString(fieldValues(f, path), fs) }, nil
	}
	if path, ok := shDateFields[name]; ok {
		var fs []struct {
			Start, End string
			DateRange  *struct {
				Value int
				Unit  string
			}
		}
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, shInvalid("Invalid filter %s", name)
		}
		type window struct{ from, to time.Time }
		var ws []window
		now := h.sim.Now()
		for _, f := range fs {
			w := window{to: now.AddDate(100, 0, 0)}
			switch {
			case f.DateRange != nil:
				if f.DateRange.Unit != "DAYS" {
					return nil, shInvalid("Invalid DateRange unit %q for filter %s", f.DateRange.Unit, name)
				}
				w.from = now.AddDate(0, 0, -f.DateRange.Value)
			case f.Start != "" || f.End != "":
				var err1, err2 error
				if f.Start != "" {
					w.from, err1 = time.Parse(time.RFC3339Nano, f.Start)
				}
				if f.End != "" {
					w.to, err2 = time.Parse(time.RFC3339Nano, f.End)
				}
				if err1 != nil || err2 != nil {
					return nil, shInvalid("Invalid date in filter %s", name)
				}
			default:
				return nil, shInvalid("A date filter needs Start and End or DateRange (%s)", name)
			}
			ws = append(ws, w)
		}
		return func(f map[string]any) bool {
			s, _ := jPath(f, path).(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return len(ws) == 0
			}
			for _, w := range ws {
				if !t.Before(w.from) && !t.After(w.to) {
					return true
				}
			}
			return len(ws) == 0
		}, nil
	}
	if path, ok := shNumberFields[name]; ok {
		var fs []struct{ Gte, Lte, Eq, Gt, Lt *float64 }
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, shInvalid("Invalid filter %s", name)
		}
		return func(f map[string]any) bool {
			v, ok := jNumber(jPath(f, path))
			if !ok {
				return len(fs) == 0
			}
			for _, n := range fs {
				if (n.Gte == nil || v >= *n.Gte) && (n.Lte == nil || v <= *n.Lte) && (n.Eq == nil || v == *n.Eq) &&
					(n.Gt == nil || v > *n.Gt) && (n.Lt == nil || v < *n.Lt) {
					return true
				}
			}
			return len(fs) == 0
		}, nil
	}
	if field, ok := shMapFields[name]; ok {
		var fs []struct{ Key, Value, Comparison string }
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, shInvalid("Invalid filter %s", name)
		}
		return func(f map[string]any) bool {
			var maps []map[string]any
			if field == "Tags" {
				rs, _ := f["Resources"].([]any)
				for _, r := range rs {
					if m, ok := r.(map[string]any); ok {
						if t, ok := m["Tags"].(map[string]any); ok {
							maps = append(maps, t)
						}
					}
				}
			} else if m, ok := f[field].(map[string]any); ok {
				maps = append(maps, m)
			}
			var vals []string
			for _, fl := range fs {
				for _, m := range maps {
					if v, ok := m[fl.Key].(string); ok {
						vals = append(vals, v)
					}
				}
				if !matchString(vals, []shStringFilter{{Value: fl.Value, Comparison: fl.Comparison}}) {
					return false
				}
				vals = vals[:0]
			}
			return true
		}, nil
	}
	return nil, shInvalid("Filter %s is not supported by the simulator", name)
}

var shComparisons = map[string]bool{"EQUALS": true, "PREFIX": true, "NOT_EQUALS": true, "PREFIX_NOT_EQUALS": true, "CONTAINS": true, "NOT_CONTAINS": true}

func (h *securityhubService) getFindings(key string, body []byte) (any, error) {
	var in struct {
		Filters    map[string]json.RawMessage
		MaxResults *int
		NextToken  *string
	}
	if err := decodeUseNumber(body, &in); err != nil {
		return nil, err
	}
	var preds []func(map[string]any) bool
	names := make([]string, 0, len(in.Filters))
	for name := range in.Filters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, err := h.filterPredicate(name, in.Filters[name])
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, shInvalid("MaxResults must be between 1 and 100")
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil && *in.NextToken != "" {
		n, ok := parsePageToken("shft", *in.NextToken)
		if !ok {
			return nil, shInvalid("The NextToken provided is invalid")
		}
		start = n
	}
	var hits []map[string]any
	for _, f := range h.findings[key] {
		ok := true
		for _, p := range preds {
			if !p(f) {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, f)
		}
	}
	start = min(start, len(hits))
	end := min(len(hits), start+limit)
	out := struct {
		Findings  []map[string]any `json:"Findings"`
		NextToken string           `json:"NextToken,omitempty"`
	}{Findings: append([]map[string]any{}, hits[start:end]...)}
	if end < len(hits) {
		out.NextToken = pageToken("shft", end)
	}
	return out, nil
}

var workflowStatuses = map[string]bool{"NEW": true, "NOTIFIED": true, "RESOLVED": true, "SUPPRESSED": true}

func (h *securityhubService) updateFindings(key string, body []byte) (any, error) {
	var in struct {
		FindingIdentifiers []struct {
			ID         string `json:"Id"`
			ProductArn string `json:"ProductArn"`
		}
		Workflow *struct{ Status string }
		Note     *struct {
			Text      string
			UpdatedBy string
		}
		Severity          map[string]any
		VerificationState string
		Confidence        *json.Number
		Criticality       *json.Number
		UserDefinedFields map[string]string
		Types             []string
	}
	if err := decodeUseNumber(body, &in); err != nil {
		return nil, err
	}
	if len(in.FindingIdentifiers) == 0 || len(in.FindingIdentifiers) > 100 {
		return nil, shInvalid("FindingIdentifiers must contain between 1 and 100 items")
	}
	if in.Workflow != nil && !workflowStatuses[in.Workflow.Status] {
		return nil, shInvalid("Invalid parameter 'Workflow.Status'. Valid values are NEW, NOTIFIED, RESOLVED, SUPPRESSED")
	}
	if in.Note != nil && (in.Note.Text == "" || in.Note.UpdatedBy == "") {
		return nil, shInvalid("Note.Text and Note.UpdatedBy are both required")
	}
	if in.Note != nil && len(in.Note.Text) > 512 {
		return nil, shInvalid("Note.Text must be at most 512 characters")
	}
	now := isoTime(h.sim.Now())
	type ident struct {
		ID         string `json:"Id"`
		ProductArn string `json:"ProductArn"`
	}
	type unprocessed struct {
		FindingIdentifier ident  `json:"FindingIdentifier"`
		ErrorCode         string `json:"ErrorCode"`
		ErrorMessage      string `json:"ErrorMessage"`
	}
	out := struct {
		ProcessedFindings   []ident       `json:"ProcessedFindings"`
		UnprocessedFindings []unprocessed `json:"UnprocessedFindings"`
	}{ProcessedFindings: []ident{}, UnprocessedFindings: []unprocessed{}}
	for _, id := range in.FindingIdentifiers {
		i := h.find(key, id.ID, id.ProductArn)
		if i < 0 || id.ProductArn == "" {
			out.UnprocessedFindings = append(out.UnprocessedFindings, unprocessed{FindingIdentifier: ident(id),
				ErrorCode: "FindingNotFound", ErrorMessage: "Finding Not Found"})
			continue
		}
		f := h.findings[key][i]
		if in.Workflow != nil {
			f["Workflow"] = map[string]any{"Status": in.Workflow.Status}
			state := map[string]string{"NEW": "NEW", "NOTIFIED": "ASSIGNED", "RESOLVED": "RESOLVED", "SUPPRESSED": "DEFERRED"}[in.Workflow.Status]
			f["WorkflowState"] = state
		}
		if in.Note != nil {
			f["Note"] = map[string]any{"Text": in.Note.Text, "UpdatedBy": in.Note.UpdatedBy, "UpdatedAt": now}
		}
		if in.Severity != nil {
			sev, _ := f["Severity"].(map[string]any)
			if sev == nil {
				sev = map[string]any{}
			}
			for k, v := range in.Severity {
				sev[k] = v
			}
			f["Severity"] = sev
		}
		if in.VerificationState != "" {
			f["VerificationState"] = in.VerificationState
		}
		if in.Confidence != nil {
			f["Confidence"] = *in.Confidence
		}
		if in.Criticality != nil {
			f["Criticality"] = *in.Criticality
		}
		if in.UserDefinedFields != nil {
			udf := map[string]any{}
			for k, v := range in.UserDefinedFields {
				udf[k] = v
			}
			f["UserDefinedFields"] = udf
		}
		if in.Types != nil {
			ts := make([]any, len(in.Types))
			for i, t := range in.Types {
				ts[i] = t
			}
			f["Types"] = ts
		}
		f["UpdatedAt"] = now
		out.ProcessedFindings = append(out.ProcessedFindings, ident(id))
	}
	return out, nil
}

// AddFindings imports ASFF findings into an account and region (Go API for
// seeding), with BatchImportFindings' checks.
func (s *Sim) AddFindings(account, region string, findings ...map[string]any) error {
	if _, err := s.account(account); err != nil {
		return err
	}
	h, _ := s.service("securityhub").(*securityhubService)
	if h == nil {
		return fmt.Errorf("add findings: %w: securityhub not registered", ErrInvalidScenario)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range findings {
		// Copy through JSON into the shared value model.
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("finding: %w: %v", ErrInvalidScenario, err)
		}
		var c map[string]any
		if err := decodeUseNumber(b, &c); err != nil {
			return fmt.Errorf("finding: %w: %v", ErrInvalidScenario, err)
		}
		if msg := validateFinding(c); msg != "" {
			return fmt.Errorf("finding %v: %w: %s", c["Id"], ErrInvalidScenario, msg)
		}
		h.store(account+"/"+region, c)
	}
	return nil
}

// Findings returns an account's findings in a region (copies, via JSON).
func (s *Sim) Findings(account, region string) []map[string]any {
	h, _ := s.service("securityhub").(*securityhubService)
	if h == nil {
		return nil
	}
	h.mu.Lock()
	b, _ := json.Marshal(h.findings[account+"/"+region])
	h.mu.Unlock()
	var out []map[string]any
	_ = decodeUseNumber(b, &out)
	return out
}
