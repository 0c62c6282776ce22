package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stewardhq/steward/internal/api/approvalsapi"
	"github.com/stewardhq/steward/internal/approval"
	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/notify/slack"
	"github.com/stewardhq/steward/internal/store"
)

// The approvals part of steward serve (issue #7): the steward:approval
// task, its loop (notices, reminders, deadlines), the approval links and
// Slack's interactions on the public side, and /api/v1/approvals.
func init() {
	addServePart(servePart{name: "approvals", order: 30, setup: setupApprovals, start: startApprovals})
}

// approvalParts keeps what setup made for start, per serve.
var approvalParts sync.Map // *serveEnv -> *approvalPart

type approvalPart struct {
	svc    *approval.Service
	signer *approve.Signer
	slack  *slack.Client
	secret string
}

// approvalKeyEnv holds the approval links' HMAC key when set (32 bytes or
// more); else the key file in the data directory is used (created).
func approvalKey(dataDir string, cfg config.ApprovalsConfig) ([]byte, error) {
	envName := cfg.KeyEnv
	if envName == "" {
		envName = "STEWARD_APPROVAL_KEY"
	}
	if k := os.Getenv(envName); k != "" {
		if len(k) < approve.MinKeyLen {
			return nil, withHint(fmt.Errorf("approval key in %s is %d bytes long", envName, len(k)), "use at least 32 random bytes, e.g. openssl rand -hex 32")
		}
		return []byte(k), nil
	}
	path := cfg.KeyFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(dataDir, path)
	}
	data, err := os.ReadFile(path)
	if err == nil {
		k := strings.TrimSpace(string(data))
		if len(k) < approve.MinKeyLen {
			return nil, withHint(fmt.Errorf("approval key file %s holds %d bytes", path, len(k)), "delete it to have steward make a new one (links already sent stop working)")
		}
		return []byte(k), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("approval key: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	k := hex.EncodeToString(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("approval key: %w", err)
	}
	return []byte(k), nil
}

// broadcastRouter adds the configured webhook and SNS topic to every
// route.
type broadcastRouter struct {
	inner *notify.Router
	extra []notify.Recipient
}

func (b broadcastRouter) Route(ctx context.Context, owner, class string) notify.Route {
	rt := b.inner.Route(ctx, owner, class)
	rt.To = append(rt.To, b.extra...)
	return rt
}

func setupApprovals(ctx context.Context, env *serveEnv) error {
	cfg := env.Config
	if cfg == nil {
		cfg = config.Default()
	}
	n, err := notifiersFor(ctx, env)
	if err != nil {
		return err
	}
	part := &approvalPart{slack: n.Slack, secret: n.SlackSecret}
	key, err := approvalKey(env.DataDir, cfg.Approvals)
	if err != nil {
		return err
	}
	signer, err := approve.NewSigner(approve.SignerConfig{Key: key, BaseURL: env.BaseURL, Now: env.Clock.Now})
	if err != nil {
		return withHint(err, "baseURL in steward.yaml is where people reach steward, e.g. https://steward.example.com")
	}
	part.signer = signer
	cat, err := catalogFor(env)
	if err != nil {
		return err
	}
	classOf := env.classOf
	ac := approval.Config{
		Store: env.Store, Notifier: n.Mux, Router: broadcastRouter{n.Router, n.Extra}, Signer: signer,
		Clock: env.Clock, Stages: cat, AccountClassFunc: classOf, Exceptions: env.Store,
		DefaultDeadline: cfg.Approvals.Deadline, ReminderEvery: cfg.Approvals.Reminders.Every,
		LastReminder: cfg.Approvals.Reminders.Before, BatchWindow: cfg.Approvals.BatchWindow,
		YearClasses: cfg.Approvals.YearExceptionClasses, Logf: env.Logf,
	}
	if env.Cloud != nil {
		// Exceptions are granted as the built-ins grant them: recorded and
		// tagged, all or nothing, within the account class's limit.
		b := builtin.New(builtin.Deps{Cloud: env.Cloud, TagPrefix: cfg.TagPrefix, Exceptions: env.Store, ClassOf: classOf, Clock: env.Clock, Logf: env.Logf})
		policy := builtin.ExceptionPolicy{ProductionClasses: cfg.Approvals.YearExceptionClasses}
		ac.GrantFunc = func(ctx context.Context, e store.Exception) (store.Exception, error) {
			return b.GrantException(ctx, e, policy)
		}
	}
	svc, err := approval.New(ac)
	if err != nil {
		return err
	}
	approval.Register(env.Tasks, svc)
	part.svc = svc
	approvalParts.Store(env, part)
	return nil
}

func cloudSNSClient(ctx context.Context, env *serveEnv, account, region string) (*sns.Client, error) {
	return cloud.ClientFor[*sns.Client](ctx, env.Cloud, "sns", account, region)
}

func startApprovals(ctx context.Context, env *serveEnv) error {
	v, ok := approvalParts.Load(env)
	if !ok {
		return errors.New("approvals: setup did not run")
	}
	part := v.(*approvalPart)
	part.svc.SetEngine(env.Engine)
	logger := slog.New(slog.NewTextHandler(logWriter{env.Logf}, nil))
	links, err := approve.NewHandler(approve.HandlerConfig{Signer: part.signer, Used: env.Store, Decide: part.svc.DecideFunc(), Describe: part.svc.Describe, Logger: logger})
	if err != nil {
		return err
	}
	env.Public.Handle("/approve/", links)
	if part.slack != nil {
		if part.secret == "" {
			return withHint(errors.New("approvals: Slack is configured without a signing secret"), "set notify.slack.signingSecret or the variable notify.slack.signingSecretEnv names")
		}
		ih, err := slack.NewInteractionHandler(slack.InteractionConfig{SigningSecret: part.secret, Decide: part.svc.DecideFunc(), Now: env.Clock.Now, Logger: logger, Used: env.Store})
		if err != nil {
			return err
		}
		env.Public.Handle("/slack/interactions", ih)
	}
	(&approvalsapi.Handler{Service: part.svc, Store: env.Store, Now: env.Clock.Now}).Routes(env.API)
	go func() {
		part.svc.Run(ctx)
		approvalParts.Delete(env)
	}()
	return nil
}

// logWriter sends slog's lines to serve's log.
type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	w.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
