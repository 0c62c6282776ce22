// Package builtin holds steward's own tasks, the steward:* resources a
// playbook's Task states call besides the AWS SDK integration:
//
//   - steward:tag and steward:untag write and remove steward's bookkeeping
//     tags (keys carrying the tag prefix, "steward:" by default) and never
//     touch any other tag;
//   - steward:last-seen keeps the <prefix>last-seen tag, the clock of
//     "unused for 45 days" rules, refreshed from CloudTrail;
//   - steward:exception says whether an exception is in force (the
//     <prefix>exception tag or the exception store);
//   - steward:owner finds who owns a resource (tags, else the creator in
//     CloudTrail);
//   - steward:notify tells the owner.
//
// Tasks take and return PascalCase objects, as the AWS APIs do. Calls to
// AWS go through internal/cloud's clients, so roles, rate limits and
// retries apply. The stage rule of the catalogue holds: bookkeeping tags
// are written in every stage except a dry run (an execution input asking
// for {"steward": {"stage": "observe"}}); notices are sent in notify and
// enforce and recorded as a planned change in observe.
package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// The resources this package serves.
const (
	ResourceTag       = "steward:tag"
	ResourceUntag     = "steward:untag"
	ResourceLastSeen  = "steward:last-seen"
	ResourceException = "steward:exception"
	ResourceOwner     = "steward:owner"
	ResourceNotify    = "steward:notify"
)

// Error names steward's own tasks raise.
const (
	// ErrInvalidException: the <prefix>exception tag holds no date.
	ErrInvalidException = "Steward.InvalidException"
	// ErrInvalidInput: the task's input does not fit (a missing Resource,
	// a tag key steward may not write).
	ErrInvalidInput = "Steward.InvalidInput"
)

// DefaultTagPrefix is the prefix of steward's tag keys.
const DefaultTagPrefix = "steward:"

// Plan is a change steward did not make because of the stage (here: a
// notice not sent in observe), recorded next to the planned changes of the
// change gate.
type Plan struct {
	Kind       store.ChangeKind // store.KindNotice for notices
	Service    string           // "steward"
	Action     string           // "notify"
	Resource   string
	Stage      stage.Stage
	Parameters json.RawMessage // what would have been done
	Reason     string
}

// Plans records planned changes; internal/change's Gate.BuiltinPlans is
// the implementation steward uses.
type Plans interface {
	// RecordPlan records p for the execution and state of call and returns
	// the change record's id.
	RecordPlan(ctx context.Context, call *task.Call, p Plan) (id string, err error)
}

// Deps is what the built-in tasks need.
type Deps struct {
	// Cloud makes the AWS clients. Required for the tasks that call AWS.
	Cloud *cloud.Cloud
	// TagPrefix prefixes steward's tag keys; default DefaultTagPrefix.
	TagPrefix string
	// Exceptions is the exception store; nil means only tags count.
	Exceptions store.ExceptionStore
	// Notifier sends notices; nil means the log notifier (one JSON line per
	// notice through Logf).
	Notifier notify.Notifier
	// Router finds owners' addresses; nil sends to the owner when it is an
	// e-mail address and otherwise only to the log.
	Router *notify.Router
	// Extra are recipients of every notice besides the owner's (the
	// configured webhook or SNS topic).
	Extra []notify.Recipient
	// Plans records notices planned in observe; nil logs them.
	Plans Plans
	// Stages gives a playbook's configured stage; nil means enforce
	// everywhere (the change gate still guards AWS calls).
	Stages stage.Resolver
	// ClassOf gives an account's class; nil asks Cloud's inventory.
	ClassOf func(account string) string
	// Clock tells the time; default the real clock.
	Clock clock.Clock
	// Logf logs a line; default the standard logger.
	Logf func(format string, args ...any)
}

// Tasks are the built-in tasks over one Deps. Register makes one; its
// methods serve as task.Handlers and are usable directly.
type Tasks struct {
	d Deps
}

// New returns the tasks over d, with d's defaults filled in.
func New(d Deps) *Tasks {
	if d.TagPrefix == "" {
		d.TagPrefix = DefaultTagPrefix
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logf == nil {
		d.Logf = log.Printf
	}
	if d.Stages == nil {
		d.Stages = stage.Fixed(stage.Enforce)
	}
	if d.Notifier == nil {
		d.Notifier = &LogNotifier{Logf: d.Logf}
	}
	if d.ClassOf == nil {
		d.ClassOf = d.Cloud.ClassOf
	}
	return &Tasks{d: d}
}

// Register adds the built-in tasks to reg and returns them.
func Register(reg *task.Registry, deps Deps) *Tasks {
	t := New(deps)
	reg.Register(ResourceTag, task.HandlerFunc(t.Tag))
	reg.Register(ResourceUntag, task.HandlerFunc(t.Untag))
	reg.Register(ResourceLastSeen, task.HandlerFunc(t.LastSeen))
	reg.Register(ResourceException, task.HandlerFunc(t.Exception))
	reg.Register(ResourceOwner, task.HandlerFunc(t.Owner))
	reg.Register(ResourceNotify, task.HandlerFunc(t.Notify))
	return t
}

// Prefix is the tag prefix in use.
func (t *Tasks) Prefix() string { return t.d.TagPrefix }

// dryRun reports whether the execution asked for observe (a dry run):
// then not even bookkeeping tags are written.
func dryRun(call *task.Call) bool {
	s, ok := stage.Requested(call.ExecutionInput)
	return ok && s == stage.Observe
}

// stageOf is the stage call runs in.
func (t *Tasks) stageOf(call *task.Call, account string) stage.Stage {
	return stage.Effective(t.d.Stages, stage.PlaybookOf(call.ExecutionID), t.d.ClassOf(account), call.ExecutionInput)
}

// input is a task's input object.
type input map[string]any

func inputOf(resource string, call *task.Call) (input, error) {
	m, ok := call.Input.(map[string]any)
	if !ok {
		return nil, &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: the input must be an object, not %s", resource, kindOf(call.Input))}
	}
	return input(m), nil
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// str returns a string field; a missing or null field is "".
func (in input) str(task, key string) (string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: %s must be a string, not %s", task, key, kindOf(v))}
	}
	return s, nil
}

func (in input) required(task, key string) (string, error) {
	s, err := in.str(task, key)
	if err == nil && s == "" {
		err = &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: %s is required", task, key)}
	}
	return s, err
}

func (in input) boolean(task, key string) (bool, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: %s must be a boolean, not %s", task, key, kindOf(v))}
	}
	return b, nil
}

func (in input) strings(task, key string) ([]string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: %s must be a list of strings, not %s", task, key, kindOf(v))}
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf("%s: %s must be a list of strings; found %s", task, key, kindOf(e))}
		}
		out = append(out, s)
	}
	return out, nil
}

// Where is where a resource lives and how the tagging calls name it.
type Where struct {
	ARN     string
	Service string // from the ARN: ec2, iam, s3, ...
	Account string
	Region  string
	// Name is the resource's id or name: the part after the type
	// (vol-123 in .../volume/vol-123, a bucket's name).
	Name string
}

// globalServices keep their resources (and their CloudTrail events and
// tagging) in us-east-1.
var globalServices = map[string]bool{"iam": true, "route53": true, "cloudfront": true, "organizations": true}

// Locate finds where resource (an ARN) lives: its account and region from
// the ARN where it says, else from the execution input's "account" and
// "region"; us-east-1 for the global services.
func Locate(resource string, executionInput any) (Where, error) {
	parts := strings.SplitN(resource, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] == "" || parts[5] == "" {
		return Where{}, fmt.Errorf("resource %q is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)", resource)
	}
	w := Where{ARN: resource, Service: parts[2], Region: parts[3], Account: parts[4]}
	rest := parts[5]
	if i := strings.LastIndexAny(rest, "/:"); i >= 0 {
		w.Name = rest[i+1:]
	} else {
		w.Name = rest
	}
	in := cloud.TargetFromInput(executionInput)
	if w.Account == "" {
		w.Account = in.Account
	}
	if globalServices[w.Service] {
		w.Region = "us-east-1"
	}
	if w.Region == "" {
		w.Region = in.Region
	}
	if w.Account == "" {
		return w, fmt.Errorf("resource %s: no account in the ARN nor in the execution input", resource)
	}
	if w.Region == "" {
		return w, fmt.Errorf("resource %s in account %s: no region in the ARN nor in the execution input", resource, w.Account)
	}
	return w, nil
}

// awsError turns a failed AWS call into the ASL error Step Functions
// would give it (Service.CodeException), its cause naming the call, the
// account, the region and the resource.
func awsError(prefix, action string, w Where, err error) error {
	where := fmt.Sprintf("%s:%s in account %s region %s for %s", strings.ToLower(prefix), action, w.Account, w.Region, w.ARN)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return &asl.Error{Name: cloud.ErrorName(prefix, ae.ErrorCode()), Cause: where + ": " + ae.ErrorMessage()}
	}
	return &asl.Error{Name: asl.ErrTaskFailed, Cause: where + ": " + err.Error()}
}

// taskError wraps err (with what the task was doing) as States.TaskFailed
// unless it already carries an ASL error.
func taskError(what string, err error) error {
	var ae *asl.Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", what, &asl.Error{Name: asl.ErrTaskFailed, Cause: what + ": " + err.Error()})
}

func invalid(format string, args ...any) error {
	return &asl.Error{Name: ErrInvalidInput, Cause: fmt.Sprintf(format, args...)}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// targetOf is where an execution acts: its input's account and region.
func targetOf(call *task.Call) cloud.Target { return cloud.TargetFromInput(call.ExecutionInput) }
