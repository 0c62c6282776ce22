package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// servePart is one part of steward serve beyond the engine and events:
// the built-in tasks, change records, approvals, schedules... Each part
// lives in its own serve_*.go file and registers itself with addServePart
// from an init function, so adding a part needs no edit to serve.go.
type servePart struct {
	// name says which part failed in errors.
	name string
	// order sorts the parts (lower first) in both phases: a part that
	// wraps another's tasks runs after it.
	order int
	// setup runs before the engine starts: register tasks (env.Tasks),
	// wrap handlers. env.Engine is nil here.
	setup func(ctx context.Context, env *serveEnv) error
	// start runs once the engine runs: add routes (env.API for steward's
	// signed JSON API under /api/v1/, env.Public for pages people open
	// and callbacks such as Slack's), start loops that end with ctx.
	start func(ctx context.Context, env *serveEnv) error
}

var serveParts []servePart

// addServePart registers a part of steward serve.
func addServePart(p servePart) { serveParts = append(serveParts, p) }

// serveEnv is what serve's parts share.
type serveEnv struct {
	// DataDir is the data directory.
	DataDir string
	// Config is steward.yaml (defaults when there is none).
	Config *config.Config
	// Store is the open store.
	Store *storesqlite.DB
	// Tasks is the registry Task states resolve in.
	Tasks *task.Registry
	// Cloud acts in AWS (or the endpoint configured).
	Cloud *cloud.Cloud
	// Engine runs executions; nil during setup.
	Engine *engine.Engine
	// Rules are the rules the dispatcher matches events against, and
	// Dispatcher starts their playbooks; both set before start.
	Rules      *rules.Set
	Dispatcher *rules.Dispatcher
	// Clock tells the time (the engine's clock).
	Clock clock.Clock
	// API serves steward's JSON API: register patterns under /api/v1/;
	// every request reaching it was SigV4-signed with steward's key.
	API *http.ServeMux
	// Public serves everything else, unauthenticated: register only what
	// checks its own authority (signed approval links, Slack's signature).
	Public *http.ServeMux
	// BaseURL is where people reach this steward (for links).
	BaseURL string
	// Logf logs a line to stderr.
	Logf func(format string, args ...any)
	// Stdout is where serve prints its start-up lines.
	Stdout io.Writer
}

// runServeParts runs one phase of every part, in order.
func runServeParts(ctx context.Context, env *serveEnv, phase string) error {
	parts := append([]servePart(nil), serveParts...)
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].order < parts[j].order })
	for _, p := range parts {
		fn := p.setup
		if phase == "start" {
			fn = p.start
		}
		if fn == nil {
			continue
		}
		if err := fn(ctx, env); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}
