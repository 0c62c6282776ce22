package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

func shFinding(i int) map[string]any {
	status := []string{"PASSED", "FAILED"}[i%2]
	return map[string]any{
		"SchemaVersion": "2018-10-08", "Id": fmt.Sprintf("finding-%02d", i), "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
		"GeneratorId": "gen", "AwsAccountId": testAccount, "Types": []any{"Software and Configuration Checks"},
		"CreatedAt": "2025-01-01T00:00:00Z", "UpdatedAt": "2025-01-01T00:00:00Z", "Severity": map[string]any{"Label": "HIGH"},
		"Title": "t", "Description": "d", "Compliance": map[string]any{"Status": status},
		"Resources": []any{map[string]any{"Type": "AwsEc2Volume", "Id": fmt.Sprintf("arn:aws:ec2:us-east-1:%s:volume/vol-%d", testAccount, i%3),
			"Tags": map[string]any{"env": []string{"prod", "dev"}[min(i%4, 1)]}}},
		"Confidence": i * 10,
	}
}

func TestSecurityHub(t *testing.T) {
	sim, url := newTestSim(t, Options{})
	var seed []map[string]any
	for i := 0; i < 10; i++ {
		seed = append(seed, shFinding(i))
	}
	if err := sim.AddFindings(testAccount, testRegion, seed[:5]...); err != nil {
		t.Fatal(err)
	}
	c := securityhub.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	// Import the rest through the API, as the SDK's document types.
	var docs []shtypes.AwsSecurityFinding
	for _, f := range seed[5:] {
		b, _ := json.Marshal(f)
		var d shtypes.AwsSecurityFinding
		_ = json.Unmarshal(b, &d)
		d.Severity = &shtypes.Severity{Label: shtypes.SeverityLabelHigh}
		d.Compliance = &shtypes.Compliance{Status: shtypes.ComplianceStatus(f["Compliance"].(map[string]any)["Status"].(string))}
		res := f["Resources"].([]any)[0].(map[string]any)
		d.Resources = []shtypes.Resource{{Type: aws.String("AwsEc2Volume"), Id: aws.String(res["Id"].(string)),
			Tags: map[string]string{"env": res["Tags"].(map[string]any)["env"].(string)}}}
		docs = append(docs, d)
	}
	imp, err := c.BatchImportFindings(ctx(t), &securityhub.BatchImportFindingsInput{Findings: docs})
	if err != nil || aws.ToInt32(imp.SuccessCount) != 5 || aws.ToInt32(imp.FailedCount) != 0 {
		t.Fatalf("BatchImportFindings = %+v, %v", imp, err)
	}
	// A finding without the required attributes is reported as failed.
	if n, err := importRaw(t, url, testRegion, []byte(`{"Id":"incomplete"}`)); n != 0 || err == nil {
		t.Fatalf("incomplete finding imported: %d, %v", n, err)
	}
	get := func(f *shtypes.AwsSecurityFindingFilters) []shtypes.AwsSecurityFinding {
		var out []shtypes.AwsSecurityFinding
		p := securityhub.NewGetFindingsPaginator(c, &securityhub.GetFindingsInput{Filters: f, MaxResults: aws.Int32(3)})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, pg.Findings...)
		}
		return out
	}
	eq := func(v string) []shtypes.StringFilter {
		return []shtypes.StringFilter{{Value: aws.String(v), Comparison: shtypes.StringFilterComparisonEquals}}
	}
	if got := get(nil); len(got) != 10 {
		t.Fatalf("all findings: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{ComplianceStatus: eq("FAILED")}); len(got) != 5 {
		t.Errorf("FAILED: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{Id: eq("finding-03")}); len(got) != 1 || *got[0].Id != "finding-03" {
		t.Errorf("by id: %+v", got)
	}
	vol1 := fmt.Sprintf("arn:aws:ec2:us-east-1:%s:volume/vol-1", testAccount)
	if got := get(&shtypes.AwsSecurityFindingFilters{ResourceId: eq(vol1), ComplianceStatus: eq("FAILED")}); len(got) != 2 {
		t.Errorf("vol-1 FAILED: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{UpdatedAt: []shtypes.DateFilter{{Start: aws.String("2024-12-31T00:00:00Z"), End: aws.String("2025-01-02T00:00:00Z")}}}); len(got) != 10 {
		t.Errorf("UpdatedAt window: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{UpdatedAt: []shtypes.DateFilter{{DateRange: &shtypes.DateRange{Value: aws.Int32(7), Unit: shtypes.DateRangeUnitDays}}}}); len(got) != 0 {
		t.Errorf("updated in the last 7 days: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{Confidence: []shtypes.NumberFilter{{Gte: aws.Float64(50)}}}); len(got) != 5 {
		t.Errorf("Confidence >= 50: %d", len(got))
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{ResourceTags: []shtypes.MapFilter{{Key: aws.String("env"), Value: aws.String("prod"), Comparison: shtypes.MapFilterComparisonEquals}}}); len(got) != 3 {
		t.Errorf("ResourceTags env=prod: %d", len(got))
	}
	up, err := c.BatchUpdateFindings(ctx(t), &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{
			{Id: aws.String("finding-01"), ProductArn: aws.String("arn:aws:securityhub:us-east-1::product/aws/securityhub")},
			{Id: aws.String("nope"), ProductArn: aws.String("arn:aws:securityhub:us-east-1::product/aws/securityhub")}},
		Workflow: &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusResolved},
		Note:     &shtypes.NoteUpdate{Text: aws.String("fixed by steward"), UpdatedBy: aws.String("steward")},
	})
	if err != nil || len(up.ProcessedFindings) != 1 || len(up.UnprocessedFindings) != 1 || *up.UnprocessedFindings[0].ErrorCode != "FindingNotFound" {
		t.Fatalf("BatchUpdateFindings = %+v, %v", up, err)
	}
	got := get(&shtypes.AwsSecurityFindingFilters{WorkflowStatus: eq("RESOLVED")})
	if len(got) != 1 || *got[0].Note.Text != "fixed by steward" {
		t.Fatalf("RESOLVED: %+v", got)
	}
	if got := get(&shtypes.AwsSecurityFindingFilters{WorkflowStatus: eq("NEW")}); len(got) != 9 {
		t.Errorf("NEW: %d", len(got))
	}
	_, err = c.BatchUpdateFindings(ctx(t), &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{{Id: aws.String("finding-01"), ProductArn: aws.String("p")}},
		Workflow:           &shtypes.WorkflowUpdate{Status: "BOGUS"}})
	wantAPIError(t, err, "InvalidInputException", 400)
	_, err = c.GetFindings(ctx(t), &securityhub.GetFindingsInput{NextToken: aws.String("junk")})
	wantAPIError(t, err, "InvalidInputException", 400)
}

// shImportExceptions lists outside findings that BatchImportFindings
// rejects, with the reason (none known).
var shImportExceptions = map[string]string{}

// TestSecurityHubOutsideFindings imports every outside ASFF finding and
// reads each back by id.
func TestSecurityHubOutsideFindings(t *testing.T) {
	td := sharedTestdata(t)
	files, _ := filepath.Glob(filepath.Join(td, "securityhub", "asff", "*.json"))
	if len(files) == 0 {
		t.Skip("no ASFF findings in the outside test data")
	}
	sort.Strings(files)
	_, url := newTestSim(t, Options{})
	checked, passed := 0, 0
	for _, f := range files {
		checked++
		base := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		region, _ := raw["Region"].(string)
		c := securityhub.NewFromConfig(sdkConfig(url, orDefault(region, testRegion), testKey, "secret", ""))
		// The SDK's types do not decode ASFF JSON (timestamps are
		// time.Time), so the raw document goes over the wire as is.
		imp, err := importRaw(t, url, orDefault(region, testRegion), b)
		if err != nil || imp != 1 {
			if reason, ok := shImportExceptions[base]; ok {
				t.Logf("exception %s: %s", base, reason)
				continue
			}
			t.Errorf("%s: import: %d imported, %v", base, imp, err)
			continue
		}
		id, _ := raw["Id"].(string)
		out, err := c.GetFindings(ctx(t), &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
			Id: []shtypes.StringFilter{{Value: aws.String(id), Comparison: shtypes.StringFilterComparisonEquals}}}})
		if err != nil || len(out.Findings) != 1 || aws.ToString(out.Findings[0].ProductArn) != raw["ProductArn"] {
			t.Errorf("%s: GetFindings by id: %v, %v", base, out, err)
			continue
		}
		passed++
	}
	t.Logf("securityhub outside findings: %d checked, %d passed, %d named exceptions", checked, passed, len(shImportExceptions))
}

// importRaw posts one raw ASFF document to BatchImportFindings with a
// SigV4-shaped Authorization header (the sim reads its scope, not its
// signature) and returns SuccessCount.
func importRaw(t *testing.T, url, region string, doc []byte) (int, error) {
	t.Helper()
	body := append(append([]byte(`{"Findings":[`), doc...), []byte(`]}`)...)
	req, err := http.NewRequest(http.MethodPost, url+"/findings/import", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20260102/"+region+"/securityhub/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		SuccessCount   int
		FailedFindings []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 || len(out.FailedFindings) > 0 {
		return out.SuccessCount, fmt.Errorf("status %d, failed %v", resp.StatusCode, out.FailedFindings)
	}
	return out.SuccessCount, nil
}
