// Package approval puts people in the loop: the steward:approval task
// parks an execution on its task token, asks the resource's owner (Slack
// buttons, e-mail links) and resumes it with their decision — or, at the
// deadline, with the playbook's default. Approvals live in the store
// (store.ApprovalStore), so a restart loses no question and no answer, and
// each approval is decided exactly once.
//
// The life of an approval:
//
//  1. Invoke (the task) records it, pending, and returns; the execution
//     waits on its token.
//  2. Tick sends the notices not yet sent: the approvals of one playbook
//     run (the scan of a scheduled playbook, else the execution) for one
//     owner that are pending when the first of them is BatchWindow old go
//     out as one message per recipient (notify.Batch's shape). A failed
//     send is retried with backoff; the error is kept on the approval
//     (steward approvals ls shows it) and the execution keeps waiting.
//  3. Decide (from a link, a Slack button, the CLI or the API) records the
//     decision, grants the exception it asks for, hands the decision to
//     the execution (SendTaskSuccess) and updates the Slack messages.
//  4. Tick sends reminders (weekly, and the day before the deadline) and,
//     at the deadline, decides the default as "steward (deadline)".
package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// Resource is the task's resource name.
const Resource = "steward:approval"

// DeadlineBy is who decides when nobody answered in time.
const DeadlineBy = "steward (deadline)"

// Errors of Decide.
var (
	// ErrNotPending: the approval was already decided, or its execution
	// ended. It is approve.ErrEnded too, so links and Slack answer
	// "already decided".
	ErrNotPending = approve.ErrEnded
	// ErrChoiceNotOffered: the choice was not among the approval's choices
	// (e.g. a one-year exception outside production).
	ErrChoiceNotOffered = errors.New("approval: choice not offered")
	// ErrBadUntil: an exception's end is in the past or beyond what the
	// approval offers.
	ErrBadUntil = errors.New("approval: exception end out of range")
)

// Engine is what the service needs of the durable engine.
type Engine interface {
	// SendTaskSuccess resumes the task waiting on token with output (JSON).
	SendTaskSuccess(ctx context.Context, token, output string) error
	// DescribeExecution tells whether an execution still runs.
	DescribeExecution(ctx context.Context, arn string) (*store.Execution, error)
}

// Router finds who to tell about an owner's resources (notify.Router).
type Router interface {
	Route(ctx context.Context, owner, accountClass string) notify.Route
}

// Config configures a Service.
type Config struct {
	// Store keeps the approvals (required).
	Store store.ApprovalStore
	// Notifier sends notices (a notify.Mux); when it is also a
	// notify.Updater, decided messages are updated (Slack chat.update).
	Notifier notify.Notifier
	// Router routes owners to recipients (required).
	Router Router
	// Signer signs the e-mail links; nil sends no links.
	Signer *approve.Signer
	// Clock is the engine's clock; default real.
	Clock clock.Clock
	// Stages resolves the stage of a playbook in an account class; nil
	// means enforce.
	Stages stage.Resolver
	// AccountClassFunc returns the class of an account ("" when unknown).
	AccountClassFunc func(account string) string
	// Exceptions keeps the exceptions granted by decisions; nil grants
	// none (the decision still says "exception").
	Exceptions store.ExceptionStore
	// TagFunc mirrors a granted exception as the <prefix>exception tag on
	// the resource; nil tags nothing. Used when GrantFunc is nil.
	TagFunc func(ctx context.Context, e store.Exception) error
	// GrantFunc grants an exception (records and tags it, all or nothing:
	// builtin's Tasks.GrantException); nil records it in Exceptions and
	// calls TagFunc.
	GrantFunc func(ctx context.Context, e store.Exception) (store.Exception, error)
	// DefaultDeadline applies when the task gives no DeadlineSeconds;
	// default 48h.
	DefaultDeadline time.Duration
	// ReminderEvery is the interval of reminders before the deadline;
	// default a week. LastReminder is how long before the deadline the
	// last one goes; default a day. Negative values turn them off.
	ReminderEvery, LastReminder time.Duration
	// BatchWindow is how long the first notice of a run for an owner waits
	// for the others of that run; default 10s.
	BatchWindow time.Duration
	// YearClasses are the account classes where a one-year exception may
	// be asked; default ["production"].
	YearClasses []string
	// RetryBase and RetryMax bound the backoff between sends that failed;
	// default 1m and 1h.
	RetryBase, RetryMax time.Duration
	// PollInterval is how often Run ticks; default 5s.
	PollInterval time.Duration
	// Logf logs what people running steward should see; default discard.
	Logf func(format string, args ...any)
}

// Service runs approvals. It is the steward:approval task.handler.
type Service struct {
	cfg Config

	mu     sync.RWMutex
	engine Engine
	kick   chan struct{}
	// handover serialises granting and handing over decisions, so the
	// loop's retry and a fresh decision never race on one approval.
	handover sync.Mutex
}

var _ task.Handler = (*Service)(nil)

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Router == nil {
		return nil, errors.New("approval: Config needs Store and Router")
	}
	if cfg.Notifier == nil {
		cfg.Notifier = notify.Mux{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Stages == nil {
		cfg.Stages = stage.Fixed(stage.Enforce)
	}
	if cfg.AccountClassFunc == nil {
		cfg.AccountClassFunc = func(string) string { return "" }
	}
	if cfg.DefaultDeadline <= 0 {
		cfg.DefaultDeadline = 48 * time.Hour
	}
	if cfg.ReminderEvery == 0 {
		cfg.ReminderEvery = 7 * 24 * time.Hour
	}
	if cfg.LastReminder == 0 {
		cfg.LastReminder = 24 * time.Hour
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = 10 * time.Second
	}
	if cfg.BatchWindow < 0 {
		cfg.BatchWindow = 0
	}
	if cfg.YearClasses == nil {
		cfg.YearClasses = []string{"production"}
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Minute
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Hour
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Service{cfg: cfg, kick: make(chan struct{}, 1)}, nil
}

// Register registers svc as the steward:approval task.
func Register(reg *task.Registry, svc *Service) { reg.Register(Resource, svc) }

// SetEngine sets the engine decisions are handed to (it starts after the
// tasks are registered).
func (s *Service) SetEngine(e Engine) {
	s.mu.Lock()
	s.engine = e
	s.mu.Unlock()
}

func (s *Service) eng() Engine {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.engine
}

// Output is what the execution resumes with.
type Output struct {
	Decision   string `json:"decision"` // approve, deny, exception, planned, notified
	By         string `json:"by,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Until      string `json:"until,omitempty"` // RFC3339, exceptions
	Reason     string `json:"reason,omitempty"`
	ApprovalID string `json:"approvalId,omitempty"`
}

// input is the task's input.
type input struct {
	Resource, Owner, Subject, Summary, Action, Severity string
	Choices                                             []approve.Choice
	Default                                             approve.Choice
	Deadline                                            time.Duration
}

func invalid(format string, args ...any) error {
	return &asl.Error{Name: "Steward.InvalidApproval", Cause: fmt.Sprintf(format, args...)}
}

// ParseChoice reads a choice as playbooks, the CLI and the API write it:
// approve, deny, exception-month (exception-1m, exception), exception-year
// (exception-1y).
func ParseChoice(s string) (approve.Choice, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "approve", "fix", "fix-now":
		return approve.ChoiceApprove, true
	case "deny":
		return approve.ChoiceDeny, true
	case "exception-month", "exception-1m", "exception":
		return approve.ChoiceException1M, true
	case "exception-year", "exception-1y":
		return approve.ChoiceException1Y, true
	}
	return "", false
}

func parseInput(v any, allowYear bool, defaultDeadline time.Duration) (input, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return input{}, invalid("steward:approval takes an object, got %T", v)
	}
	in := input{Deadline: defaultDeadline}
	for _, f := range []struct {
		key string
		dst *string
	}{{"Resource", &in.Resource}, {"Owner", &in.Owner}, {"Subject", &in.Subject}, {"Summary", &in.Summary},
		{"Action", &in.Action}, {"Severity", &in.Severity}} {
		switch x := m[f.key].(type) {
		case nil:
		case string:
			*f.dst = x
		default:
			return input{}, invalid("%s must be a string, got %T", f.key, x)
		}
	}
	if raw, ok := m["Choices"]; ok && raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return input{}, invalid("Choices must be a list of strings")
		}
		seen := map[approve.Choice]bool{}
		for _, x := range list {
			str, _ := x.(string)
			c, ok := ParseChoice(str)
			if !ok {
				return input{}, invalid("unknown choice %v (approve, exception-month, exception-year, deny)", x)
			}
			if c == approve.ChoiceException1Y && !allowYear {
				continue // not in this account class
			}
			if !seen[c] {
				seen[c] = true
				in.Choices = append(in.Choices, c)
			}
		}
	} else {
		in.Choices = []approve.Choice{approve.ChoiceApprove, approve.ChoiceException1M}
		if allowYear {
			in.Choices = append(in.Choices, approve.ChoiceException1Y)
		}
		in.Choices = append(in.Choices, approve.ChoiceDeny)
	}
	if len(in.Choices) == 0 {
		return input{}, invalid("no choices left to offer")
	}
	in.Default = approve.ChoiceApprove
	if d, ok := m["Default"].(string); ok && d != "" {
		c, ok := ParseChoice(d)
		if !ok {
			return input{}, invalid("unknown Default %q", d)
		}
		if c == approve.ChoiceException1Y && !allowYear {
			c = approve.ChoiceException1M
		}
		in.Default = c
	}
	if raw, ok := m["DeadlineSeconds"]; ok && raw != nil {
		secs, ok := number(raw)
		if !ok || secs <= 0 || secs > 366*24*3600 {
			return input{}, invalid("DeadlineSeconds must be a number of seconds between 1 and a year, got %v", raw)
		}
		in.Deadline = time.Duration(secs * float64(time.Second))
	}
	return in, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// approvalID derives a stable id from the call's idempotency key, so a
// call delivered twice makes one approval.
func approvalID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "apr-" + hex.EncodeToString(sum[:10])
}

func (s *Service) yearAllowed(class string) bool {
	for _, c := range s.cfg.YearClasses {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// arnPart returns field i (0-based) of an ARN, "" when it is not one.
func arnPart(arn string, i int) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return ""
	}
	return p[i]
}

// Invoke implements task.Handler: the steward:approval task.
func (s *Service) Invoke(ctx context.Context, call *task.Call) (any, error) {
	target := struct{ Account, Region string }{}
	if m, ok := call.ExecutionInput.(map[string]any); ok {
		target.Account, _ = m["account"].(string)
		target.Region, _ = m["region"].(string)
	}
	res, _ := call.Input.(map[string]any)
	resARN, _ := res["Resource"].(string)
	if target.Account == "" {
		target.Account = arnPart(resARN, 4)
	}
	if target.Region == "" {
		target.Region = arnPart(resARN, 3)
	}
	class := s.cfg.AccountClassFunc(target.Account)
	playbook := stage.PlaybookOf(call.ExecutionID)
	in, err := parseInput(call.Input, s.yearAllowed(class), s.cfg.DefaultDeadline)
	if err != nil {
		return nil, err
	}
	st := stage.Effective(s.cfg.Stages, playbook, class, call.ExecutionInput)
	switch st {
	case stage.Observe:
		return s.answerNow(ctx, call, Output{Decision: "planned"})
	case stage.Notify:
		s.notifyOnly(ctx, call, in, playbook, class, target.Account, target.Region)
		return s.answerNow(ctx, call, Output{Decision: "notified"})
	}
	if call.Token == "" {
		return nil, invalid("steward:approval must be called as steward:approval.waitForTaskToken")
	}
	now := s.cfg.Clock.Now().UTC()
	a := &store.Approval{
		ID: approvalID(call.IdempotencyKey), ExecutionARN: call.ExecutionID, StateName: call.StateName,
		TaskToken: call.Token, Playbook: playbook, Account: target.Account, Region: target.Region,
		Resource: in.Resource, Owner: in.Owner, Default: string(in.Default),
		Deadline: now.Add(in.Deadline), CreatedAt: now, SendAfter: now.Add(s.cfg.BatchWindow),
		Status: store.ApprovalPending, Batch: batchOf(playbook, call),
	}
	for _, c := range in.Choices {
		a.Choices = append(a.Choices, string(c))
	}
	a.NextReminder = s.nextReminder(now, a.Deadline, now)
	a.Notice, _ = json.Marshal(noticeText{Subject: in.Subject, Summary: in.Summary, Action: in.Action, Severity: in.Severity, AccountClass: class})
	stored, created, err := s.cfg.Store.CreateApproval(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("approval for %s in %s: %w", in.Resource, call.ExecutionID, err)
	}
	if created {
		s.cfg.Logf("approval %s: asking %q about %s (%s), deadline %s", stored.ID, stored.Owner, stored.Resource, playbook, stored.Deadline.Format(time.RFC3339))
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	// The durable engine ignores this result (the token carries the
	// answer); it says where the question is.
	return map[string]any{"approvalId": stored.ID, "status": string(stored.Status)}, nil
}

func batchOf(playbook string, call *task.Call) string {
	if m, ok := call.ExecutionInput.(map[string]any); ok {
		if scan, ok := m["scan"].(string); ok && scan != "" {
			return playbook + "/scan/" + scan
		}
	}
	return playbook + "/" + call.ExecutionID
}

// noticeText is what the task asked, kept with the approval.
type noticeText struct {
	Subject      string `json:"subject,omitempty"`
	Summary      string `json:"summary,omitempty"`
	Action       string `json:"action,omitempty"`
	Severity     string `json:"severity,omitempty"`
	AccountClass string `json:"accountClass,omitempty"`
}

// answerNow answers a task that does not wait for a person: through its
// token with the durable engine, and as its result (the in-memory runner).
func (s *Service) answerNow(ctx context.Context, call *task.Call, out Output) (any, error) {
	b, _ := json.Marshal(out)
	if e := s.eng(); e != nil && call.Token != "" {
		if err := e.SendTaskSuccess(ctx, call.Token, string(b)); err != nil &&
			!errors.Is(err, engine.ErrTaskTimedOut) {
			return nil, fmt.Errorf("approval: answer %s: %w", call.ExecutionID, err)
		}
	}
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return v, nil
}

// notifyOnly tells the owner what would be asked, in the notify stage.
func (s *Service) notifyOnly(ctx context.Context, call *task.Call, in input, playbook, class, account, region string) {
	rt := s.cfg.Router.Route(ctx, in.Owner, class)
	n := notify.Notice{
		ExecutionARN: call.ExecutionID, Playbook: playbook, Title: in.Subject, Detail: in.Summary,
		Resources: []notify.Resource{resourceOf(in.Resource, account, region, in.Owner)},
		Owner:     rt.Owner, AccountClass: class, Action: in.Action,
		Note: strings.TrimSpace("steward only notifies for this playbook here: nothing will be changed and no answer is needed. " + rt.Note),
		To:   rt.To,
	}
	for _, to := range rt.To {
		if _, err := s.cfg.Notifier.Notify(ctx, to, n); err != nil {
			s.cfg.Logf("approval: notify-stage notice for %s to %s failed: %v", in.Resource, to, err)
		}
	}
}

func resourceOf(arn, account, region, owner string) notify.Resource {
	r := notify.Resource{Account: account, Region: region, ARN: arn, Owner: owner}
	if res := arnPart(arn, 5); res != "" {
		if i := strings.LastIndexAny(res, "/:"); i >= 0 {
			r.ID = res[i+1:]
		} else {
			r.ID = res
		}
		if acct := arnPart(arn, 4); acct != "" {
			r.Account = acct
		}
		if reg := arnPart(arn, 3); reg != "" {
			r.Region = reg
		}
	} else if arn != "" {
		r.ID, r.ARN = arn, ""
	}
	return r
}

// nextReminder is the first reminder time after `after`: every
// ReminderEvery from created, and LastReminder before the deadline; zero
// when none is left.
func (s *Service) nextReminder(created, deadline, after time.Time) time.Time {
	var best time.Time
	consider := func(t time.Time) {
		if t.After(after) && t.After(created) && t.Before(deadline) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if s.cfg.LastReminder > 0 {
		consider(deadline.Add(-s.cfg.LastReminder))
	}
	if s.cfg.ReminderEvery > 0 {
		last := deadline
		if s.cfg.LastReminder > 0 {
			last = deadline.Add(-s.cfg.LastReminder)
		}
		// the first weekly reminder after `after`
		k := int64(1)
		if after.After(created) {
			k = int64(after.Sub(created)/s.cfg.ReminderEvery) + 1
		}
		if t := created.Add(time.Duration(k) * s.cfg.ReminderEvery); t.Before(last) {
			consider(t)
		}
	}
	return best
}
