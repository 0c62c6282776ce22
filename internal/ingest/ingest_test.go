package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testdata"
)

var now = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func TestDecodeBody(t *testing.T) {
	envelope := `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"111122223333","time":"2026-11-02T09:59:00Z","region":"eu-west-1","resources":[],"detail":{"eventName":"RunInstances"}}`
	evs, err := DecodeBody([]byte(envelope), "http", now)
	if err != nil || len(evs) != 1 {
		t.Fatalf("envelope: %v %v", evs, err)
	}
	e := evs[0]
	if e.ID != "6a7e8feb-b491-4cf7-a9f1-bf3703467718" || e.Source != "aws.ec2" || e.DetailType != "AWS API Call via CloudTrail" || e.Account != "111122223333" || e.Region != "eu-west-1" || !e.Time.Equal(time.Date(2026, 11, 2, 9, 59, 0, 0, time.UTC)) {
		t.Errorf("envelope fields: %+v", e)
	}

	// Any JSON is an event; the same content gets the same id.
	a, err := DecodeBody([]byte(`{"finding": "x", "n": 1}`), "http", now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DecodeBody([]byte("{\"finding\":\"x\",\n \"n\":1}"), "http", now)
	if a[0].ID != b[0].ID || !strings.HasPrefix(a[0].ID, "sha256-") {
		t.Errorf("content ids %q and %q", a[0].ID, b[0].ID)
	}

	batch, err := DecodeBody([]byte("["+envelope+`,{"x":1}]`), "http", now)
	if err != nil || len(batch) != 2 {
		t.Fatalf("batch: %v %v", batch, err)
	}

	for _, bad := range []string{`{"a":`, `nope`, `[{"a":1},`} {
		if _, err := DecodeBody([]byte(bad), "http", now); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", bad, err)
		}
	}
	for _, empty := range []string{``, `  `, `[]`} {
		if _, err := DecodeBody([]byte(empty), "http", now); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: got %v, want ErrEmpty", empty, err)
		}
	}
	big := `{"s":"` + strings.Repeat("x", MaxEventBytes) + `"}`
	_, err = DecodeBody([]byte(`[{"ok":1},`+big+`]`), "http", now)
	var ee *EventError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &ee) || ee.Index != 1 {
		t.Errorf("oversized event in a batch: %v", err)
	}
}

func TestEntryToEvent(t *testing.T) {
	ts := float64(now.Unix())
	ev, fail := EntryToEvent(PutEventsEntry{Source: "custom.detector", DetailType: "Finding", Detail: `{"severity": 8}`, Resources: []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-1"}, Time: &ts}, "111122223333", "eu-west-1", now, func() string { return "id-1" })
	if fail != nil {
		t.Fatal(fail)
	}
	var got map[string]any
	_ = json.Unmarshal(ev.Body, &got)
	if got["id"] != "id-1" || got["source"] != "custom.detector" || got["detail-type"] != "Finding" || got["account"] != "111122223333" || got["time"] != "2026-11-02T10:00:00Z" {
		t.Errorf("envelope %s", ev.Body)
	}
	for _, bad := range []struct {
		e    PutEventsEntry
		code string
	}{
		{PutEventsEntry{DetailType: "x", Detail: "{}"}, "InvalidArgument"},
		{PutEventsEntry{Source: "s", Detail: "{}"}, "InvalidArgument"},
		{PutEventsEntry{Source: "s", DetailType: "x", Detail: "[1]"}, "MalformedDetail"},
		{PutEventsEntry{Source: "s", DetailType: "x", Detail: "{"}, "MalformedDetail"},
	} {
		if _, fail := EntryToEvent(bad.e, "1", "r", now, nil); fail == nil || fail.ErrorCode != bad.code {
			t.Errorf("%+v: got %+v, want %s", bad.e, fail, bad.code)
		}
	}
}

// TestReadCloudTrail imports the real CloudTrail records as S3 stores them
// (gzip JSON with Records), as NDJSON, and as a folder.
func TestReadCloudTrail(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "cloudtrail", "raw"), "*.json"))
	var records []json.RawMessage
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, data)
	}
	dir := t.TempDir()
	// An S3 log file: gzip JSON {"Records": [...]}.
	var logFile bytes.Buffer
	zw := gzip.NewWriter(&logFile)
	body, _ := json.Marshal(map[string]any{"Records": records})
	zw.Write(body)
	zw.Close()
	sub := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "eu-west-1")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "log_1.json.gz"), logFile.Bytes(), 0o644)
	// NDJSON of the same records.
	var nd bytes.Buffer
	for _, r := range records {
		var c bytes.Buffer
		json.Compact(&c, r)
		nd.Write(c.Bytes())
		nd.WriteByte('\n')
	}
	ndPath := filepath.Join(t.TempDir(), "records.ndjson")
	os.WriteFile(ndPath, nd.Bytes(), 0o644)

	count := func(path string) (int, map[string]int) {
		n := 0
		sources := map[string]int{}
		err := ReadCloudTrail(path, func(_ string, ev map[string]any) error {
			n++
			sources[ev["source"].(string)]++
			if ev["detail-type"] == nil || ev["detail"] == nil || ev["id"] == "" {
				t.Errorf("not an EventBridge envelope: %v", ev)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, sources
	}
	n1, sources := count(dir)
	n2, _ := count(ndPath)
	if n1 != len(records) || n2 != len(records) {
		t.Errorf("read %d (folder of gzip) and %d (NDJSON) events from %d records", n1, n2, len(records))
	}
	if sources["aws.ec2"] == 0 || sources["aws.s3"] == 0 || sources["aws.signin"] == 0 {
		t.Errorf("sources %v", sources)
	}
	t.Logf("imported %d real CloudTrail records from a gzip S3 log file and from NDJSON; sources %v", n1, sources)
}

func TestWrapCloudTrailIDsAreStable(t *testing.T) {
	rec := map[string]any{"eventSource": "s3.amazonaws.com", "eventName": "DeleteBucket", "eventTime": "2020-02-14T00:43:54Z", "eventID": "e-1", "awsRegion": "us-east-2", "recipientAccountId": "123456789012"}
	a, _ := WrapCloudTrail(rec)
	b, _ := WrapCloudTrail(rec)
	if a["id"] != b["id"] || a["source"] != "aws.s3" || a["account"] != "123456789012" {
		t.Errorf("wrapped %v and %v", a, b)
	}
	if _, err := WrapCloudTrail(map[string]any{"x": 1}); !errors.Is(err, ErrNotCloudTrail) {
		t.Errorf("not a record: %v", err)
	}
}

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"version":"0","id":"1","source":"aws.ec2","detail-type":"x","time":"2026-01-01T00:00:00Z","detail":{}}`))
	f.Add([]byte(`[{"a":1},{"b":[1,2]}]`))
	f.Add([]byte(`"just a string"`))
	f.Add([]byte(`{"id":"a\u0041","source":"s","source":"t","detail":{"id":"nested"},"detail-type":"x\"y"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := DecodeBody(body, "http", now)
		if err != nil {
			return
		}
		for _, e := range evs {
			if e.ID == "" || !json.Valid(e.Body) || len(e.Body) > MaxEventBytes {
				t.Fatalf("bad event %+v", e)
			}
			// The envelope scanner agrees with encoding/json.
			var env struct {
				ID         any    `json:"id"`
				Source     string `json:"source"`
				DetailType string `json:"detail-type"`
				Account    string `json:"account"`
				Region     string `json:"region"`
			}
			if e.Body[0] == '{' && json.Unmarshal(e.Body, &env) == nil {
				id, _ := env.ID.(string)
				wantID := id != "" && env.Source != ""
				if e.Source != env.Source || e.DetailType != env.DetailType || e.Account != env.Account || e.Region != env.Region || (wantID && e.ID != id) {
					t.Fatalf("envelope of %s: got %+v, encoding/json says %+v", e.Body, e, env)
				}
			}
		}
	})
}

func FuzzSplitRecords(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventTime":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte(`[{"a":1}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := splitRecords(data)
		if err != nil {
			return
		}
		for _, r := range recs {
			_, _ = WrapCloudTrail(r)
		}
	})
}
