// Package ingest receives events: EventBridge API-destination posts,
// PutEvents, SNS messages and CloudTrail log files; it stores each event
// durably before acknowledging it.
package ingest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Detail types EventBridge gives CloudTrail events.
const (
	DetailTypeAPICall      = "AWS API Call via CloudTrail"
	DetailTypeConsoleLogin = "AWS Console Sign In via CloudTrail"
)

// cloudTrailNamespace seeds the ids of wrapped CloudTrail records, so
// importing the same record twice gives the same event id (and is stored
// once).
var cloudTrailNamespace = uuid.MustParse("2f0c4d5e-8b7a-4c51-9d3e-6a1f0b2c3d4e")

// ErrNotCloudTrail is returned for a record that lacks the fields every
// CloudTrail record has.
var ErrNotCloudTrail = errors.New("not a CloudTrail record")

// WrapCloudTrail wraps one CloudTrail record (as stored in S3 log files) in
// the envelope EventBridge puts around it, so rules match backfilled and
// live events alike: source "aws.<service>", detail-type "AWS API Call via
// CloudTrail" (or "AWS Console Sign In via CloudTrail"), account, region,
// time, and the record as detail.
func WrapCloudTrail(record map[string]any) (map[string]any, error) {
	src, _ := record["eventSource"].(string)
	name, _ := record["eventName"].(string)
	at, _ := record["eventTime"].(string)
	if src == "" || name == "" || at == "" {
		return nil, fmt.Errorf("%w: eventSource, eventName and eventTime are required", ErrNotCloudTrail)
	}
	service := strings.TrimSuffix(src, ".amazonaws.com")
	if i := strings.Index(service, "."); i >= 0 {
		service = service[:i]
	}
	detailType := DetailTypeAPICall
	if name == "ConsoleLogin" || (service == "signin" && strings.Contains(name, "Login")) {
		detailType = DetailTypeConsoleLogin
	}
	account, _ := record["recipientAccountId"].(string)
	if account == "" {
		if ui, ok := record["userIdentity"].(map[string]any); ok {
			account, _ = ui["accountId"].(string)
		}
	}
	region, _ := record["awsRegion"].(string)
	id := ""
	if eid, ok := record["eventID"].(string); ok && eid != "" {
		id = uuid.NewSHA1(cloudTrailNamespace, []byte(eid)).String()
	} else {
		id = uuid.NewSHA1(cloudTrailNamespace, []byte(src+"|"+name+"|"+at+"|"+account+"|"+region)).String()
	}
	return map[string]any{
		"version":     "0",
		"id":          id,
		"detail-type": detailType,
		"source":      "aws." + service,
		"account":     account,
		"time":        at,
		"region":      region,
		"resources":   []any{},
		"detail":      record,
	}, nil
}
