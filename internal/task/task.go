// Package task holds the registry of task handlers: what a Task state's
// Resource calls. The steward:* built-ins register here, and so do the AWS
// SDK integration and HTTP/Lambda tasks.
package task

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Call is one invocation of a task by a Task state.
type Call struct {
	// Resource is the Task state's Resource as written, with any
	// .waitForTaskToken or .sync suffix.
	Resource string
	// Input is the effective task input (after Parameters or Arguments).
	Input any
	// Token is the task token when the resource ends in .waitForTaskToken:
	// the execution waits until something sends it back.
	Token string
	// IdempotencyKey is the same for every delivery of one attempt of one
	// state of one execution, so a handler can make its side effect once
	// even when the engine runs it again after a crash.
	IdempotencyKey string
	// ExecutionID and StateName say who is calling.
	ExecutionID string
	StateName   string
	// ExecutionInput is the execution's input, for handlers that act where
	// the event that started it happened (its "account" and "region").
	ExecutionInput any
	// Credentials is the Task state's Credentials field, if any.
	Credentials any
}

// Handler runs a task. It returns the task's result, or an error: an
// *asl.Error (or one wrapping it) fails the task with that error name;
// any other error fails it as States.TaskFailed.
type Handler interface {
	Invoke(ctx context.Context, call *Call) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, call *Call) (any, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, call *Call) (any, error) { return f(ctx, call) }

// ErrUnknownResource is returned for a resource no handler serves.
var ErrUnknownResource = errors.New("unknown task resource")

// Registry maps resources to handlers. A name ending in ":*" serves every
// resource with that prefix (e.g. "arn:aws:states:::aws-sdk:*").
type Registry struct {
	mu       sync.RWMutex
	exact    map[string]Handler
	prefixes map[string]Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{exact: map[string]Handler{}, prefixes: map[string]Handler{}}
}

// Register adds a handler under name, replacing any before it.
func (r *Registry) Register(name string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.HasSuffix(name, "*") {
		r.prefixes[strings.TrimSuffix(name, "*")] = h
		return
	}
	r.exact[name] = h
}

// Suffixes Step Functions appends to a resource to choose an integration
// pattern.
var patternSuffixes = []string{".waitForTaskToken", ".sync:2", ".sync"}

// BaseResource strips the integration-pattern suffix from a resource.
func BaseResource(resource string) string {
	for _, s := range patternSuffixes {
		if strings.HasSuffix(resource, s) {
			return strings.TrimSuffix(resource, s)
		}
	}
	return resource
}

// Resolve finds the handler for a Task state's resource.
func (r *Registry) Resolve(resource string) (Handler, error) {
	base := BaseResource(resource)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.exact[base]; ok {
		return h, nil
	}
	best := ""
	for p := range r.prefixes {
		if strings.HasPrefix(base, p) && len(p) > len(best) {
			best = p
		}
	}
	if best != "" {
		return r.prefixes[best], nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownResource, resource, strings.Join(r.names(), ", "))
}

func (r *Registry) names() []string {
	var out []string
	for n := range r.exact {
		out = append(out, n)
	}
	for p := range r.prefixes {
		out = append(out, p+"*")
	}
	sort.Strings(out)
	return out
}

// Names lists the registered resources.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.names()
}
