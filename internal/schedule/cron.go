// Package schedule keeps cron schedules in the store and fires them: each
// run fires once across restarts and replicas (a compare-and-set on the
// schedule's next run), and runs missed while steward was down fire once
// when it comes back, not once per missed run.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/adhocore/gronx"
)

// ErrBadCron says a cron expression does not parse or never fires.
var ErrBadCron = errors.New("bad cron expression")

// CronError is a cron expression that does not parse, naming the schedule
// it belongs to.
type CronError struct {
	// Schedule names the schedule (a playbook's, or one from steward.yaml);
	// may be empty.
	Schedule string
	// Expr is the expression as given.
	Expr string
	// Reason says what is wrong.
	Reason string
}

func (e *CronError) Error() string {
	s := "schedule"
	if e.Schedule != "" {
		s += " " + fmt.Sprintf("%q", e.Schedule)
	}
	return fmt.Sprintf("%s: cron %q: %s (want 5 fields, minute hour day-of-month month day-of-week, in UTC, e.g. \"0 6 * * *\")", s, e.Expr, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadCron) true.
func (e *CronError) Unwrap() error { return ErrBadCron }

// Cron is a parsed cron expression: 5 fields (minute, hour, day of month,
// month, day of week), evaluated in UTC. The descriptors @yearly,
// @annually, @monthly, @weekly, @daily and @hourly are accepted too.
type Cron struct {
	expr string
}

// descriptors are the @ forms accepted, with their 5-field meaning.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// maxCronLen bounds an expression's length; real ones are far shorter.
const maxCronLen = 200

// ParseCron parses expr; the error is a *CronError naming schedule.
func ParseCron(schedule, expr string) (c Cron, err error) {
	bad := func(reason string) (Cron, error) {
		return Cron{}, &CronError{Schedule: schedule, Expr: expr, Reason: reason}
	}
	s := strings.TrimSpace(expr)
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxCronLen {
		return bad(fmt.Sprintf("longer than %d characters", maxCronLen))
	}
	if strings.HasPrefix(s, "@") {
		d, ok := descriptors[strings.ToLower(s)]
		if !ok {
			return bad("unknown descriptor (steward knows @yearly, @monthly, @weekly, @daily, @hourly)")
		}
		s = d
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune(" \t*,-/?LW#", r)) {
			return bad(fmt.Sprintf("unexpected character %q", r))
		}
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return bad(fmt.Sprintf("%d fields", len(fields)))
	}
	s = strings.Join(fields, " ")
	defer func() {
		// The parser is third-party: no input may crash steward.
		if r := recover(); r != nil {
			c, err = bad(fmt.Sprintf("does not parse (%v)", r))
		}
	}()
	if !gronx.IsValid(s) {
		return bad("does not parse")
	}
	c = Cron{expr: s}
	// A valid expression that never fires (31 February) is an error too.
	if _, err := c.next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return bad("never fires")
	}
	return c, nil
}

// String returns the expression in its 5-field form.
func (c Cron) String() string { return c.expr }

// Next returns the first time strictly after t (in UTC, whole minutes) the
// expression matches.
func (c Cron) Next(t time.Time) (time.Time, error) {
	if c.expr == "" {
		return time.Time{}, &CronError{Reason: "empty"}
	}
	return c.next(t)
}

func (c Cron) next(t time.Time) (next time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CronError{Expr: c.expr, Reason: fmt.Sprintf("no next run (%v)", r)}
		}
	}()
	// Start at the next whole minute, inclusive, so the result is strictly
	// after t.
	from := t.UTC().Truncate(time.Minute).Add(time.Minute)
	n, err := gronx.NextTickAfter(c.expr, from, true)
	if err != nil {
		return time.Time{}, &CronError{Expr: c.expr, Reason: "no next run: " + err.Error()}
	}
	n = n.UTC()
	if !n.After(t) {
		return time.Time{}, &CronError{Expr: c.expr, Reason: "no next run after " + t.UTC().Format(time.RFC3339)}
	}
	return n, nil
}
