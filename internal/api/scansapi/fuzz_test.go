package scansapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/schedule"
)

// FuzzDecodeSchedule: no body or name crashes the decoder; what it accepts
// has a cron that parses again and a next run after now.
func FuzzDecodeSchedule(f *testing.F) {
	f.Add("nightly", []byte(`{"cron":"0 6 * * *","playbook":"ebs-unused"}`))
	f.Add("weekly", []byte(`{"cron":"@weekly","playbook":"p","enabled":false}`))
	f.Add("bad", []byte(`{"cron":"0 0 31 2 *","playbook":"p"}`))
	f.Add("x", []byte(`{"cron":"*/5 1-3 L * MON#2","playbook":"p"} {}`))
	f.Add("playbook/x", []byte(`{}`))
	f.Add("", []byte(`nul`))
	now := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		s, err := DecodeSchedule(name, body, now)
		if err != nil {
			if !strings.Contains(err.Error(), "schedule") {
				t.Fatalf("error %q does not say which schedule", err)
			}
			return
		}
		if _, err := schedule.ParseCron(s.Name, s.Cron); err != nil {
			t.Fatalf("accepted cron %q does not parse again: %v", s.Cron, err)
		}
		if !s.NextRun.After(now) || s.Playbook == "" {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// FuzzDecodeScanRequest: no body crashes the decoder.
func FuzzDecodeScanRequest(f *testing.F) {
	f.Add([]byte(`{"playbook":"ebs-unused","accounts":["111111111111"],"regions":["us-east-1"],"dryRun":true}`))
	f.Add([]byte(`{"playbook":""}`))
	f.Add([]byte(`{"playbook":"p","accounts":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeScanRequest(body)
		if err == nil && req.Playbook == "" {
			t.Fatal("accepted a request without a playbook")
		}
		_ = errors.Unwrap(err)
	})
}
