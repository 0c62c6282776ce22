package cloud

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/task"
)

// ResourcePrefix begins the Resource of every aws-sdk Task state.
const ResourcePrefix = "arn:aws:states:::aws-sdk:"

// ErrUnknownAction reports an action the service's SDK client does not have.
var ErrUnknownAction = errors.New("unknown action")

// CallError is the failure of one aws-sdk task: which call, where, the
// ASL error a playbook can Catch, and the cause.
type CallError struct {
	Service, Action string
	Account, Region string
	// ASL is the error name and cause the task fails with.
	ASL *asl.Error
	// Err is the underlying Go error.
	Err error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("aws-sdk %s:%s in account %s region %s: %v", e.Service, e.Action, orNone(e.Account), orNone(e.Region), e.Err)
}

// Unwrap returns both the ASL error and the cause, so errors.As finds the
// *asl.Error and errors.Is finds sentinels such as ErrUnknownAction.
func (e *CallError) Unwrap() []error { return []error{e.ASL, e.Err} }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Register adds the aws-sdk task integration to a task registry, under
// arn:aws:states:::aws-sdk:*.
func (c *Cloud) Register(r *task.Registry) {
	r.Register(ResourcePrefix+"*", task.HandlerFunc(c.Invoke))
}

type targetKey struct{}

// WithTarget returns a context whose aws-sdk tasks act in t's account and
// region (fields left empty fall back to Config's defaults).
func WithTarget(ctx context.Context, t Target) context.Context {
	return context.WithValue(ctx, targetKey{}, t)
}

// TargetFrom returns the target WithTarget put in ctx.
func TargetFrom(ctx context.Context) (Target, bool) {
	t, ok := ctx.Value(targetKey{}).(Target)
	return t, ok
}

// TargetFromInput reads the "account" and "region" fields of an
// execution's input. EventBridge events carry both at the top level, so a
// playbook started by an event acts, by default, where the event happened.
func TargetFromInput(input any) Target {
	var t Target
	if m, ok := input.(map[string]any); ok {
		t.Account, _ = m["account"].(string)
		t.Region, _ = m["region"].(string)
	}
	return t
}

// ParseResource splits arn:aws:states:::aws-sdk:<service>:<action>[.pattern]
// into service and action.
func ParseResource(resource string) (service, action string, err error) {
	base := task.BaseResource(resource)
	rest, ok := strings.CutPrefix(base, ResourcePrefix)
	if !ok {
		return "", "", fmt.Errorf("resource %q does not start with %s", resource, ResourcePrefix)
	}
	service, action, ok = strings.Cut(rest, ":")
	if !ok || service == "" || action == "" || strings.Contains(action, ":") {
		return "", "", fmt.Errorf("resource %q is not %s<service>:<action>", resource, ResourcePrefix)
	}
	return service, action, nil
}

// Invoke runs one aws-sdk task: see the package documentation for where
// it acts and how it names errors. It implements task.Handler.
func (c *Cloud) Invoke(ctx context.Context, call *task.Call) (any, error) {
	service, action, err := ParseResource(call.Resource)
	if err != nil {
		return nil, &CallError{Service: "?", Action: "?", ASL: &asl.Error{Name: asl.ErrTaskFailed, Cause: err.Error()}, Err: err}
	}
	t := Target{Account: c.cfg.DefaultAccount, Region: c.cfg.DefaultRegion}
	ct, ok := TargetFrom(ctx)
	if !ok && call.ExecutionInput != nil {
		ct, ok = TargetFromInput(call.ExecutionInput), true
	}
	if ok {
		if ct.Account != "" {
			t.Account = ct.Account
		}
		if ct.Region != "" {
			t.Region = ct.Region
		}
	}
	role, err := roleArnOf(call.Credentials)
	fail := func(err error) error {
		ce := &CallError{Service: service, Action: action, Account: t.Account, Region: t.Region, Err: err}
		ce.ASL = &asl.Error{Name: asl.ErrTaskFailed, Cause: ce.Error()}
		return ce
	}
	if err != nil {
		return nil, fail(err)
	}
	if role != "" {
		t.Account = accountOfARN(role)
	}
	spec, ok := serviceSpecs[service]
	if !ok {
		return nil, fail(fmt.Errorf("%w %q (steward serves %s)", ErrUnknownService, service, strings.Join(ServiceNames(), ", ")))
	}
	if spec.Global && t.Region == "" {
		t.Region = c.cfg.HomeRegion
	}
	if t.Account == "" {
		return nil, fail(fmt.Errorf("%w: no account: give the Task Credentials.RoleArn, the execution input an \"account\", or steward a default account", ErrUnknownAccount))
	}
	if t.Region == "" {
		return nil, fail(fmt.Errorf("%w: no region: give the execution input a \"region\" or steward a default region", ErrUnknownRegion))
	}
	method, inType, err := findMethod(service, action)
	if err != nil {
		return nil, fail(err)
	}
	in := reflect.New(inType)
	if err := decodeInput(call.Input, in.Elem()); err != nil {
		return nil, fail(fmt.Errorf("%w: %s", ErrBadParameters, err.Error()))
	}
	client, err := c.client(ctx, service, t.Account, t.Region, role)
	if err != nil {
		return nil, fail(err)
	}
	out, err := callMethod(ctx, reflect.ValueOf(client).MethodByName(method), in)
	if err != nil {
		ce := &CallError{Service: service, Action: action, Account: t.Account, Region: t.Region, Err: err}
		ce.ASL = errorFor(spec.Prefix, ce)
		c.forgetExpired(err, t.Account, role)
		return nil, ce
	}
	return renderOutput(out, spec.StringNumbers), nil
}

// roleArnOf reads Step Functions' Credentials field: {"RoleArn": "..."}.
func roleArnOf(cred any) (string, error) {
	if cred == nil {
		return "", nil
	}
	m, ok := cred.(map[string]any)
	if !ok {
		return "", fmt.Errorf("Credentials must be an object with a RoleArn, not %s", kindOf(cred))
	}
	for k := range m {
		if k != "RoleArn" {
			return "", fmt.Errorf("Credentials has an unknown field %q (only RoleArn)", k)
		}
	}
	role, ok := m["RoleArn"].(string)
	if !ok {
		return "", fmt.Errorf("Credentials.RoleArn must be a string")
	}
	if err := checkRoleTemplate(role); err != nil || strings.Contains(role, "{account}") {
		return "", fmt.Errorf("Credentials.RoleArn %q is not an IAM role ARN", role)
	}
	return role, nil
}

// findMethod returns the SDK client method name for a Step Functions
// action (camelCase) and the method's input struct type.
func findMethod(service, action string) (string, reflect.Type, error) {
	spec, ok := serviceSpecs[service]
	if !ok {
		return "", nil, fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	r, size := utf8.DecodeRuneInString(action)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return "", nil, fmt.Errorf("%w %q: Step Functions writes actions in camelCase, e.g. describeVolumes", ErrUnknownAction, action)
	}
	name := string(unicode.ToUpper(r)) + action[size:]
	if in, ok := methodCache.Load(service + ":" + name); ok {
		return name, in.(reflect.Type), nil
	}
	ct := reflect.TypeOf(spec.New(aws.Config{}, false))
	m, ok := ct.MethodByName(name)
	if !ok || !isOperation(m.Type) {
		return "", nil, fmt.Errorf("%w %q: the %s API has no %s operation", ErrUnknownAction, action, service, name)
	}
	in := m.Type.In(2).Elem()
	methodCache.Store(service+":"+name, in)
	return name, in, nil
}

// methodCache maps "service:Method" to the method's input type.
var methodCache sync.Map

var (
	ctxType = reflect.TypeOf((*context.Context)(nil)).Elem()
	errType = reflect.TypeOf((*error)(nil)).Elem()
)

// isOperation reports whether a method type (receiver first) is an SDK
// operation: func(ctx, *XInput, ...func(*Options)) (*XOutput, error).
func isOperation(t reflect.Type) bool {
	return t.NumIn() == 4 && t.IsVariadic() && t.In(1) == ctxType &&
		t.In(2).Kind() == reflect.Pointer && t.In(2).Elem().Kind() == reflect.Struct &&
		t.NumOut() == 2 && t.Out(0).Kind() == reflect.Pointer && t.Out(1) == errType
}

// callMethod calls an SDK operation, turning a panic into an error.
func callMethod(ctx context.Context, m reflect.Value, in reflect.Value) (out reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("SDK call panicked: %v", r)
		}
	}()
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if e, _ := res[1].Interface().(error); e != nil {
		return reflect.Value{}, e
	}
	return res[0], nil
}

// ErrorName is the name Step Functions gives an AWS error code in an AWS
// SDK integration: the service prefix, a dot, and the code with an
// "Exception" suffix when it lacks one.
func ErrorName(prefix, code string) string {
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	return prefix + "." + code
}

// errorFor maps an SDK call's error to the ASL error: AWS's errors by
// name, with AWS's message and the Java SDK's "(Service: ..., Status Code:
// ..., Request ID: ...)" as the cause; anything else (a cancelled context,
// a missing required parameter) as States.TaskFailed.
func errorFor(prefix string, ce *CallError) *asl.Error {
	var are *AssumeRoleError
	if errors.As(ce.Err, &are) {
		// The call never reached the service: name the error for STS,
		// whose AssumeRole failed.
		if are.Code != "" {
			return &asl.Error{Name: ErrorName("Sts", are.Code), Cause: ce.Error()}
		}
		return &asl.Error{Name: asl.ErrTaskFailed, Cause: ce.Error()}
	}
	var ae smithy.APIError
	if errors.As(ce.Err, &ae) && ae.ErrorCode() != "" {
		status, reqID := 0, ""
		var re *awshttp.ResponseError
		if errors.As(ce.Err, &re) {
			status, reqID = re.HTTPStatusCode(), re.ServiceRequestID()
		}
		msg := ae.ErrorMessage()
		if msg == "" {
			msg = ae.ErrorCode()
		}
		return &asl.Error{Name: ErrorName(prefix, ae.ErrorCode()),
			Cause: fmt.Sprintf("%s (Service: %s, Status Code: %d, Request ID: %s)", msg, prefix, status, reqID)}
	}
	return &asl.Error{Name: asl.ErrTaskFailed, Cause: ce.Error()}
}

// expiredCodes are AWS's answers to credentials it no longer accepts.
var expiredCodes = map[string]bool{"ExpiredToken": true, "ExpiredTokenException": true}

// forgetExpired drops cached credentials AWS called expired, so that the
// next call (a Retry of the task) assumes the role afresh even when
// steward's clock and AWS's disagree.
func (c *Cloud) forgetExpired(err error, account, role string) {
	var ae smithy.APIError
	if !errors.As(err, &ae) || !expiredCodes[ae.ErrorCode()] {
		return
	}
	if role == "" {
		r, rerr := c.roleFor(account, c.cfg.HomeRegion, true)
		if rerr != nil || r == "" {
			return
		}
		role = r
	}
	c.creds.forget(role)
}
