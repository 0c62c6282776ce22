package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// TagException is the name of the exception tag (after the prefix).
const TagException = "exception"

// ExceptionTag is the <prefix>exception tag's value read: an end and an
// optional reason.
type ExceptionTag struct {
	// Until is when the exception ends: the end of the date's day (UTC)
	// for a date, the time itself for an RFC 3339 time.
	Until  time.Time
	Reason string
}

// ErrBadExceptionTag says an exception tag holds no date.
var ErrBadExceptionTag = errors.New("exception tag must be YYYY-MM-DD or an RFC 3339 time, optionally followed by ;reason")

// ParseExceptionTag reads a <prefix>exception value: "YYYY-MM-DD" (in force
// through that day, UTC) or an RFC 3339 time (to the second), optionally followed by
// ";reason". Spaces around the parts are ignored.
func ParseExceptionTag(v string) (ExceptionTag, error) {
	date, reason, _ := strings.Cut(v, ";")
	date = strings.TrimSpace(date)
	reason = strings.TrimSpace(reason)
	if t, err := time.Parse(time.DateOnly, date); err == nil {
		return ExceptionTag{Until: t.AddDate(0, 0, 1), Reason: reason}, nil
	}
	if t, err := time.Parse(time.RFC3339, date); err == nil {
		// Whole seconds: what FormatExceptionTag writes back.
		return ExceptionTag{Until: t.UTC().Truncate(time.Second), Reason: reason}, nil
	}
	return ExceptionTag{}, fmt.Errorf("%q: %w", v, ErrBadExceptionTag)
}

// FormatExceptionTag is the tag value for an exception until until: the
// date when until is a midnight UTC (the day before it: the last day in
// force), else the RFC 3339 time; then ";reason" when there is one. AWS
// allows 256 characters in a value; a longer reason is cut.
func FormatExceptionTag(until time.Time, reason string) string {
	u := until.UTC()
	var s string
	if u.Equal(u.Truncate(24 * time.Hour)) {
		s = u.AddDate(0, 0, -1).Format(time.DateOnly)
	} else {
		s = u.Format(time.RFC3339)
	}
	reason = strings.TrimSpace(strings.ReplaceAll(reason, ";", ","))
	if reason != "" {
		s += ";" + reason
	}
	if r := []rune(s); len(r) > 256 {
		s = string(r[:256])
	}
	return s
}

// Exception serves steward:exception: {"Resource": ARN, "Tags": <tags>} →
// {"Excepted", "Until", "Source": "tag"|"store", "By", "Reason"}. An
// exception in the store (for the execution's playbook or for all) counts
// first; then the <prefix>exception tag, unless it only mirrors an
// exception of the store (granted for another playbook, or revoked). A tag that holds no date fails
// the task with Steward.InvalidException (playbooks catch it and tell the
// owner); a past date is no exception.
func (t *Tasks) Exception(ctx context.Context, call *task.Call) (any, error) {
	const name = ResourceException
	in, err := inputOf(name, call)
	if err != nil {
		return nil, err
	}
	res, err := in.required(name, "Resource")
	if err != nil {
		return nil, err
	}
	tags, err := TagsOf(in["Tags"])
	if err != nil {
		return nil, invalid("%s on %s: Tags: %v", name, res, err)
	}
	now := t.d.Clock.Now()
	playbook := stage.PlaybookOf(call.ExecutionID)
	if t.d.Exceptions != nil {
		e, err := t.d.Exceptions.ActiveException(ctx, res, playbook, now)
		switch {
		case err == nil:
			return map[string]any{"Excepted": true, "Until": rfc3339(e.Until), "Source": "store", "By": e.GrantedBy, "Reason": e.Reason, "Id": e.ID}, nil
		case !errors.Is(err, store.ErrNotFound):
			return nil, taskError(name, fmt.Errorf("exceptions of %s: %w", res, err))
		}
	}
	key, _ := t.Key(TagException)
	v, ok := tags[key]
	if !ok {
		return map[string]any{"Excepted": false}, nil
	}
	if t.d.Exceptions != nil && t.mirrored(ctx, res, v) {
		// The tag mirrors an exception in the store that is not in force
		// for this playbook (another playbook's, revoked or expired): the
		// store has answered.
		return map[string]any{"Excepted": false, "Source": "store"}, nil
	}
	et, err := ParseExceptionTag(v)
	if err != nil {
		return nil, &asl.Error{Name: ErrInvalidException, Cause: fmt.Sprintf("resource %s: tag %s = %q is not an exception: write YYYY-MM-DD or an RFC 3339 time, optionally followed by ;reason", res, key, v)}
	}
	if !now.Before(et.Until) {
		return map[string]any{"Excepted": false, "Until": rfc3339(et.Until), "Source": "tag", "Reason": et.Reason, "Expired": true}, nil
	}
	return map[string]any{"Excepted": true, "Until": rfc3339(et.Until), "Source": "tag", "By": "tag", "Reason": et.Reason}, nil
}

// mirrored reports whether tag value v is the mirror of one of the
// resource's exceptions in the store.
func (t *Tasks) mirrored(ctx context.Context, resource, v string) bool {
	l, err := t.d.Exceptions.ListExceptions(ctx, store.ExceptionFilter{Resource: resource, Limit: 100})
	if err != nil {
		return false
	}
	for _, e := range l {
		if FormatExceptionTag(e.Until, e.Reason) == v {
			return true
		}
	}
	return false
}
