package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// memAppender keeps events by id in memory, for the handler's tests; the
// store's driver is tested against the same contract in its own suite.
type memAppender struct {
	mu     sync.Mutex
	events map[string]Event
	fail   error
}

func (m *memAppender) AppendEvents(_ context.Context, events []Event) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	if m.events == nil {
		m.events = map[string]Event{}
	}
	fresh := make([]bool, len(events))
	for i, e := range events {
		if _, ok := m.events[e.ID]; !ok {
			m.events[e.ID] = e
			fresh[i] = true
		}
	}
	return fresh, nil
}

func post(t *testing.T, h http.HandlerFunc, body string, header map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec, out
}

func TestServeEvents(t *testing.T) {
	store := &memAppender{}
	var accepted []Event
	h := &Handler{Appender: store, Token: "s3cret", Now: func() time.Time { return now }, Accepted: func(evs []Event) { accepted = append(accepted, evs...) }}
	auth := map[string]string{"Authorization": "Bearer s3cret"}

	rec, out := post(t, h.ServeEvents, `[{"version":"0","id":"a","source":"aws.ec2","detail-type":"x","detail":{}},{"version":"0","id":"b","source":"aws.s3","detail-type":"x","detail":{}}]`, auth)
	if rec.Code != 200 || len(out["accepted"].([]any)) != 2 {
		t.Fatalf("batch: %d %v", rec.Code, out)
	}
	rec, out = post(t, h.ServeEvents, `{"version":"0","id":"a","source":"aws.ec2","detail-type":"x","detail":{}}`, map[string]string{"X-Api-Key": "s3cret"})
	if rec.Code != 200 || len(out["duplicates"].([]any)) != 1 || len(out["accepted"].([]any)) != 0 {
		t.Fatalf("duplicate: %d %v", rec.Code, out)
	}
	if len(store.events) != 2 || len(accepted) != 2 {
		t.Errorf("stored %d, told the rules about %d; want 2 and 2", len(store.events), len(accepted))
	}

	for _, tc := range []struct {
		name   string
		body   string
		header map[string]string
		status int
	}{
		{"malformed", `{"a":`, auth, 400},
		{"oversized", `{"s":"` + strings.Repeat("x", MaxEventBytes) + `"}`, auth, 413},
		{"request over the body limit", `[` + strings.Repeat(`{"s":"`+strings.Repeat("x", 1000)+`"},`, 3000) + `{}]`, auth, 413},
		{"no credentials", `{"a":1}`, nil, 401},
		{"wrong credentials", `{"a":1}`, map[string]string{"Authorization": "Bearer nope"}, 403},
	} {
		rec, _ := post(t, h.ServeEvents, tc.body, tc.header)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.status, rec.Body)
		}
	}
	if len(store.events) != 2 {
		t.Errorf("refused requests stored events: %d", len(store.events))
	}

	store.fail = errors.New("disk full")
	rec, _ = post(t, h.ServeEvents, `{"new":1}`, auth)
	if rec.Code != 503 {
		t.Errorf("store failure: status %d, want 503", rec.Code)
	}
}

func TestServePutEvents(t *testing.T) {
	store := &memAppender{}
	h := &Handler{Appender: store, Account: "111122223333", Region: "eu-west-1", Now: func() time.Time { return now },
		VerifySigV4: func(r *http.Request, _ []byte) (string, error) {
			if r.Header.Get("Authorization") != "good" {
				return "", errors.New("The request signature we calculated does not match the signature you provided.")
			}
			return "AKID", nil
		}}
	body := `{"Entries":[{"Source":"custom.detector","DetailType":"Finding","Detail":"{\"severity\":8}"},{"Source":"x","DetailType":"y","Detail":"not json"}]}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Authorization", "good")
	rec := httptest.NewRecorder()
	h.ServePutEvents(rec, req)
	var out struct {
		FailedEntryCount int
		Entries          []PutEventsResultEntry
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if out.FailedEntryCount != 1 || out.Entries[0].EventID == "" || out.Entries[1].ErrorCode != "MalformedDetail" {
		t.Errorf("response %+v", out)
	}
	if len(store.events) != 1 {
		t.Errorf("stored %d events, want 1", len(store.events))
	}
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Authorization", "forged")
	rec = httptest.NewRecorder()
	h.ServePutEvents(rec, req)
	if rec.Code != 403 || len(store.events) != 1 {
		t.Errorf("bad signature: %d, stored %d", rec.Code, len(store.events))
	}
}

func TestServeSNS(t *testing.T) {
	signer := newSNSSigner(t)
	store := &memAppender{}
	var confirmed []string
	h := &Handler{Appender: store, Token: "tok", Now: func() time.Time { return now },
		SNS:                 &SNSVerifier{FetchCert: func(context.Context, string) ([]byte, error) { return signer.certPEM, nil }, Now: func() time.Time { return now }},
		ConfirmSubscription: func(_ context.Context, u string) error { confirmed = append(confirmed, u); return nil }}
	auth := map[string]string{"X-Api-Key": "tok"}

	confirm := &SNSMessage{Type: SNSSubscriptionConfirmation, MessageID: "m-1", Token: "t", TopicArn: "arn:aws:sns:eu-west-1:1:findings", Message: "confirm", SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription", Timestamp: now.Format(time.RFC3339)}
	signer.sign(t, confirm)
	b, _ := json.Marshal(confirm)
	if rec, _ := post(t, h.ServeSNS, string(b), auth); rec.Code != 200 || len(confirmed) != 1 {
		t.Fatalf("confirmation: %d, confirmed %v", rec.Code, confirmed)
	}
	note := &SNSMessage{Type: SNSNotification, MessageID: "m-2", TopicArn: confirm.TopicArn, Message: `{"version":"0","id":"f-1","source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{}}`, Timestamp: now.Format(time.RFC3339)}
	signer.sign(t, note)
	b, _ = json.Marshal(note)
	rec, out := post(t, h.ServeSNS, string(b), auth)
	if rec.Code != 200 || out["accepted"].([]any)[0] != "f-1" {
		t.Fatalf("notification: %d %v", rec.Code, out)
	}
	note.Message = `{"forged":true}`
	b, _ = json.Marshal(note)
	if rec, _ := post(t, h.ServeSNS, string(b), auth); rec.Code != 403 || len(store.events) != 1 {
		t.Errorf("forged notification: %d, stored %d", rec.Code, len(store.events))
	}
}
