package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// Defaults of steward serve.
const (
	defaultDataDir = "./steward-data"
	defaultAddr    = "127.0.0.1:8600"
	// storeFile is the SQLite store's name in the data directory.
	storeFile = "steward.db"
)

func newServeCmd() *cobra.Command {
	var p serveParams
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the durable engine and serve the Step Functions-compatible API",
		Long: `Serve opens the store in the data directory (SQLite, created if needed), resumes
the executions in it, and serves the Step Functions API (AWS JSON 1.0, as the
AWS CLI and SDKs speak it) until SIGINT or SIGTERM.

Requests must be signed (AWS Signature Version 4) with steward's access key:
STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY if both are set, else the
key in DIR/access-key.json. With neither, serve makes a key, stores it there
(mode 0600) and prints it once.`,
		Example: `  steward serve --data ./steward-data --addr 127.0.0.1:8600
  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... aws stepfunctions --endpoint-url http://127.0.0.1:8600 --region us-east-1 list-state-machines`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, p, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&p.dataDir, "data", defaultDataDir, "data directory: the store and the access key")
	cmd.Flags().StringVar(&p.addr, "addr", defaultAddr, "address to listen on (host:port)")
	cmd.Flags().StringVar(&p.rulesFile, "rules", "", "rules file (YAML) to load at start; rules saved with steward rules put are kept in the store")
	cmd.Flags().StringVar(&p.configFile, "config", os.Getenv("STEWARD_CONFIG"), "configuration file (steward.yaml; default $STEWARD_CONFIG); without one steward runs on its defaults")
	p.aws.register(cmd)
	return cmd
}

type serveParams struct {
	dataDir, addr string
	rulesFile     string
	configFile    string
	aws           awsFlags
}

// loadConfig reads the configuration file, or returns the defaults when
// there is none; the AWS flags override the file.
func (p *serveParams) loadConfig() (*config.Config, error) {
	cfg := config.Default()
	if p.configFile != "" {
		var err error
		if cfg, err = config.Load(p.configFile); err != nil {
			return nil, withHint(err, "check "+p.configFile+" against the README's configuration section")
		}
	}
	if p.aws.accounts == "" && cfg.Accounts != "" {
		p.aws.accounts = cfg.Path(cfg.Accounts)
	}
	if p.aws.endpoint == "" {
		p.aws.endpoint = cfg.AWSEndpoint
	}
	return cfg, nil
}

// serve runs steward until ctx ends.
func serve(ctx context.Context, p serveParams, stdout, stderr io.Writer) error {
	cfg, err := p.loadConfig()
	if err != nil {
		return err
	}
	path := filepath.Join(p.dataDir, storeFile)
	st, err := storesqlite.Open(path, storesqlite.Options{})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return withHint(err, "another steward serve is using "+p.dataDir+"; stop it, or give this one its own --data DIR")
		}
		return fmt.Errorf("open store %s: %w", path, err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return withHint(fmt.Errorf("listen on %s: the address is in use", p.addr), "another process listens there; stop it or pick another --addr 127.0.0.1:PORT")
		}
		return withHint(fmt.Errorf("listen on %s: %w", p.addr, err), "--addr takes host:port, e.g. 127.0.0.1:8600")
	}
	defer ln.Close()

	tasks := task.NewRegistry()
	task.RegisterBasics(tasks)
	cl, err := p.aws.registerCloud(ctx, tasks)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "steward: "+format+"\n", args...) }
	url := "http://" + ln.Addr().String()
	env := &serveEnv{
		DataDir: p.dataDir, Config: cfg, Store: st, Tasks: tasks, Cloud: cl, Clock: clock.Real{},
		API: http.NewServeMux(), BaseURL: cfg.BaseURL, Logf: logf, Stdout: stdout,
	}
	if env.BaseURL == "" {
		env.BaseURL = url
	}
	if err := runServeParts(ctx, env, "setup"); err != nil {
		return err
	}
	// The key is made only once everything that can refuse to start has
	// agreed to: a key made by a start that failed would never be shown.
	key, created, err := api.LoadOrCreateAccessKey(p.dataDir, os.Getenv)
	if err != nil {
		return withHint(err, "the access key comes from STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY, or from "+filepath.Join(p.dataDir, api.AccessKeyFile))
	}
	// One process owns the data directory (the store's lock), so a fixed
	// owner id lets a restart take its executions back at once.
	eng := engine.New(engine.Config{Store: st, Tasks: tasks, Clock: env.Clock, Owner: "steward-serve@" + host, Logf: logf})
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Close()
	env.Engine = eng

	ingestToken, tokenCreated, err := loadOrCreateIngestToken(p.dataDir)
	if err != nil {
		return fmt.Errorf("ingest token: %w", err)
	}
	events, err := newEventsServer(ctx, eventsConfig{
		events: st, engine: eng, sfnAPI: api.New(api.Config{Engine: eng, Keys: key.Keys(), Logf: logf}),
		keys: key.Keys(), ingestToken: ingestToken, rulesFile: p.rulesFile, api: env.API,
		account: "000000000000", region: "us-east-1", logf: logf,
	})
	if err != nil {
		return err
	}
	env.Public, env.Rules, env.Dispatcher = events.mux, events.rules, events.dispatcher
	if err := runServeParts(ctx, env, "start"); err != nil {
		return err
	}
	go func() {
		if err := events.dispatcher.Run(ctx); err != nil && ctx.Err() == nil {
			logf("event dispatcher stopped: %v", err)
		}
	}()

	srv := &http.Server{
		Handler:           events.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(stdout, "steward serving the Step Functions API at %s\n", url)
	fmt.Fprintf(stdout, "  data directory: %s\n", p.dataDir)
	fmt.Fprintf(stdout, "  access key id:  %s\n", key.AccessKeyID)
	if created {
		fmt.Fprintf(stdout, "  created a new access key; its secret is shown only now (kept in %s):\n", filepath.Join(p.dataDir, api.AccessKeyFile))
		fmt.Fprintf(stdout, "  secret access key: %s\n", key.SecretAccessKey)
		fmt.Fprintf(stdout, "  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1\n", key.AccessKeyID, key.SecretAccessKey)
	}
	fmt.Fprintf(stdout, "  try: aws stepfunctions --endpoint-url %s list-state-machines\n", url)
	fmt.Fprintf(stdout, "  events: POST %s/events (Authorization: Bearer <ingest token>), PutEvents at %s, SNS at %s/sns\n", url, url, url)
	if tokenCreated {
		fmt.Fprintf(stdout, "  created an ingest token, shown only now (kept in %s): %s\n", filepath.Join(p.dataDir, ingestTokenFile), ingestToken)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "steward: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logf("shutdown: %v", err)
	}
	return nil
}
