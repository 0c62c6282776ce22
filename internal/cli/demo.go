package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/demo"
	"github.com/stewardhq/steward/playbooks"
)

func init() {
	registerCommand("", newDemoCmd)
	// The demo watches the serve it starts from inside: this part hands
	// it serve's environment (store, engine, API) once the engine runs.
	// It does nothing in any other serve.
	addServePart(servePart{name: "demo", order: 90, start: demoServePart})
}

// demoBanner opens the demo's output; it is the first thing a newcomer
// reads, so it says plainly that nothing is real.
const demoBanner = "This is a simulated AWS organisation; nothing here touches a real AWS account."

func newDemoCmd() *cobra.Command {
	var p demoParams
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run steward against a simulated AWS organisation, with no AWS account",
		Long: `Demo starts a simulated AWS (in this process, on 127.0.0.1) seeded with a small
organisation: three member accounts (production, development, sandbox) in two
regions, full of what steward's playbooks fix: unattached old volumes, unused
Elastic IPs, IMDSv1 instances, a hosted zone with only NS and SOA records, a
DNS record pointing at a deleted bucket, a security group open to the world, a
stopped instance, CloudTrail events. It then runs steward serve on a temporary
data directory against it, runs every scheduled playbook's scan, sends the
scenario's events, and prints what steward found, what it fixed or planned and
which approvals wait for a person. It keeps serving until Ctrl-C, so the
commands it prints can be tried.

Stages: enforce in the sandbox and development accounts and notify in
production, unless --stage sets one stage for all. steward's own credentials
are the simulation's key: nothing reaches AWS.`,
		Example: `  steward demo
  steward demo --stage observe --addr 127.0.0.1:8700`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, p, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&p.addr, "addr", "127.0.0.1:0", "address steward listens on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&p.stage, "stage", "", "one stage for every account: enforce, notify or observe (default: enforce in sandbox and development, notify in production)")
	cmd.Flags().StringVar(&p.dataDir, "data", "", "data directory to keep (default: a temporary one, removed at the end)")
	cmd.Flags().DurationVar(&p.settle, "wait", time.Minute, "how long to wait for the playbooks to finish before reporting")
	return cmd
}

type demoParams struct {
	addr, stage, dataDir string
	settle               time.Duration
}

// demoHooks maps a demo's data directory to the channel its serve's
// environment is handed on.
var demoHooks sync.Map

func demoServePart(_ context.Context, env *serveEnv) error {
	if ch, ok := demoHooks.Load(env.DataDir); ok {
		select {
		case ch.(chan *serveEnv) <- env:
		default:
		}
	}
	return nil
}

// demoConfig is steward.yaml for the demo: the stages by account class.
func demoConfig(stageFlag string) ([]byte, error) {
	stages := map[string]string{"default": "observe", "production": "notify", "development": "enforce", "sandbox": "enforce"}
	switch stageFlag {
	case "":
	case "enforce", "notify", "observe":
		stages = map[string]string{"default": stageFlag}
	default:
		return nil, withHint(fmt.Errorf("--stage %q: not a stage", stageFlag), "--stage takes enforce, notify or observe")
	}
	cfg := map[string]any{"playbooks": map[string]any{"defaults": map[string]any{"stages": stages}}}
	return yaml.Marshal(cfg)
}

// demoAWSEnv are the environment variables steward's AWS layer reads its
// own credentials from; the demo sets them to the simulation's key so that
// no real credentials are ever used.
var demoAWSEnv = map[string]string{
	"AWS_ACCESS_KEY_ID":     demo.AccessKeyID,
	"AWS_SECRET_ACCESS_KEY": demo.SecretAccessKey,
	"AWS_SESSION_TOKEN":     "",
	"AWS_PROFILE":           "",
	"AWS_ENDPOINT_URL":      "",
	"AWS_CA_BUNDLE":         "",
	"AWS_REGION":            "us-east-1",
}

// setDemoEnv sets demoAWSEnv and returns a function restoring what was
// there.
func setDemoEnv() (restore func()) {
	old := map[string]*string{}
	for k, v := range demoAWSEnv {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}

func runDemo(ctx context.Context, p demoParams, stdout, stderr io.Writer) (err error) {
	cfgYAML, err := demoConfig(p.stage)
	if err != nil {
		return err
	}
	dir := p.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "steward-demo-"); err != nil {
			return fmt.Errorf("demo data directory: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo data directory: %w", err)
	}
	org, err := demo.Start(time.Now)
	if err != nil {
		return err
	}
	defer org.Close()
	inv := filepath.Join(dir, "accounts.yaml")
	cfgPath := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(inv, org.Inventory(), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, cfgYAML, 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "steward.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	defer setDemoEnv()()

	fmt.Fprintln(stdout, demoBanner)
	fmt.Fprintf(stdout, "  simulated AWS: %s (in this process; it accepts only the demo's key)\n", org.URL)
	for _, a := range org.Members() {
		fmt.Fprintf(stdout, "  account %s %-14s class %-12s regions %s\n", a.ID, a.Name, a.Class, strings.Join(org.Scenario.Regions, ", "))
	}
	if p.stage == "" {
		fmt.Fprintln(stdout, "  stages: enforce in sandbox and development, notify in production (--stage to change)")
	} else {
		fmt.Fprintf(stdout, "  stage: %s in every account\n", p.stage)
	}

	envCh := make(chan *serveEnv, 1)
	demoHooks.Store(dir, envCh)
	defer demoHooks.Delete(dir)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	var serveOut bytes.Buffer
	go func() {
		served <- serve(sctx, serveParams{dataDir: dir, addr: p.addr, configFile: cfgPath,
			aws: awsFlags{accounts: inv, endpoint: org.URL}}, &lockedWriter{w: &serveOut}, logFile)
	}()
	var env *serveEnv
	select {
	case env = <-envCh:
	case err := <-served:
		if err == nil {
			err = errors.New("steward serve stopped at once")
		}
		if p.dataDir == "" { // the log goes with the temporary directory
			return fmt.Errorf("demo: %w", err)
		}
		return fmt.Errorf("demo: %w (log: %s)", err, logPath)
	case <-ctx.Done():
		return nil
	}
	fmt.Fprintf(stdout, "  steward: %s (data %s, log %s)\n", env.BaseURL, dir, logPath)

	d := &demoDriver{env: env, simURL: org.URL, dir: dir, out: stdout}
	// Events first, then the daily scans: as in a real organisation,
	// where the scans run at their hour and not while an event's
	// playbook is half-way (route53-ns-only deleting a zone that
	// s3-dangling-dns is reading would be a race no one meant to show).
	deadline := time.Now().Add(p.settle)
	d.sendEvents(ctx)
	d.settle(ctx, time.Until(deadline))
	d.runScans(ctx)
	d.settle(ctx, time.Until(deadline))
	if ctx.Err() == nil {
		if err := d.report(ctx); err != nil {
			return err
		}
		d.printNext(ctx, env.BaseURL, dir)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		if err != nil {
			return fmt.Errorf("demo: %w (log: %s)", err, logPath)
		}
		return nil
	}
	cancel()
	if err := <-served; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "steward demo: stopped; the simulated organisation is gone")
	return nil
}

// lockedWriter serialises writes from serve's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// demoDriver drives the running steward from inside: its API and event
// endpoints are called in process, as a client would over HTTP.
type demoDriver struct {
	env    *serveEnv
	simURL string
	dir    string
	out    io.Writer
	scans  []string
}

// call sends a request to steward's JSON API (in process: the routes
// behind the SigV4 check) and decodes the answer.
func (d *demoDriver) call(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	d.env.API.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return rec.Code, fmt.Errorf("%s %s: %d %s", method, path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	if out != nil {
		return rec.Code, json.Unmarshal(rec.Body.Bytes(), out)
	}
	return rec.Code, nil
}

// runScans starts the scan of every scheduled playbook.
func (d *demoDriver) runScans(ctx context.Context) {
	var names []string
	for _, pb := range playbooks.All() {
		if pb.Trigger == playbooks.TriggerSchedule {
			names = append(names, pb.Name)
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(d.out, "Scans: no scheduled playbooks in this build")
		return
	}
	fmt.Fprintf(d.out, "Scans: running the scheduled playbooks now (%s)\n", strings.Join(names, ", "))
	for _, name := range names {
		var started struct {
			Scan string `json:"scan"`
		}
		code, err := d.call(ctx, http.MethodPost, "/api/v1/scans", map[string]any{"playbook": name}, &started)
		switch {
		case code == http.StatusNotFound && strings.Contains(fmt.Sprint(err), "404 page not found"):
			fmt.Fprintf(d.out, "  %s: scans are not served by this build of steward\n", name)
			return
		case err != nil:
			fmt.Fprintf(d.out, "  %s: not started: %v\n", name, err)
		default:
			d.scans = append(d.scans, started.Scan)
		}
	}
}

// sendEvents posts the scenario's events to steward's event endpoint, as
// an EventBridge API destination would.
func (d *demoDriver) sendEvents(ctx context.Context) {
	evs, err := demo.Events(time.Now())
	if err != nil {
		fmt.Fprintf(d.out, "\nEvents: none sent: %v\n", err)
		return
	}
	token, _, err := loadOrCreateIngestToken(d.dir)
	if err != nil {
		fmt.Fprintf(d.out, "\nEvents: none sent: %v\n", err)
		return
	}
	fmt.Fprintf(d.out, "\nEvents: sending %d CloudTrail and Security Hub events to POST /events\n", len(evs))
	for _, e := range evs {
		req := httptest.NewRequest(http.MethodPost, "/events", bytes.NewReader(e.Body)).WithContext(ctx)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		d.env.Public.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			fmt.Fprintf(d.out, "  %s: refused: %d %s\n", e.Name, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
	}
}

// settle waits until the playbooks have done what they can without a
// person: every scan ended, every event processed, no execution running
// except those waiting for an approval, and nothing new for a second (one
// playbook may start another); or nothing changed for three seconds (a
// playbook waiting on a timer); or max passed.
func (d *demoDriver) settle(ctx context.Context, max time.Duration) {
	deadline := time.Now().Add(max)
	var last string
	stable := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r, err := demo.Collect(ctx, d.env.Store)
		if err != nil {
			return
		}
		busy := !d.scansDone(ctx)
		for _, e := range r.Events {
			busy = busy || !e.Processed
		}
		waiting := map[string]bool{}
		for _, a := range r.Approvals {
			waiting[a.ExecutionARN] = true
		}
		running := 0
		for _, e := range r.Executions {
			if e.Status == "RUNNING" {
				running++
			}
		}
		c := r.Counts()
		state := fmt.Sprint(c.Executions, c.Running, c.Succeeded, c.Failed, c.Applied, c.Planned, c.Approvals, busy)
		if state == last {
			stable++
		} else {
			stable, last = 0, state
		}
		// Quiet for a second with only approvals pending, or for three
		// seconds with something still running (a playbook's timer).
		if !busy && (running <= len(waiting) && stable >= 4 || stable >= 12) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// scansDone reports whether every scan the demo started has ended.
func (d *demoDriver) scansDone(ctx context.Context) bool {
	for _, id := range d.scans {
		var v struct {
			Status string `json:"status"`
		}
		if _, err := d.call(ctx, http.MethodGet, "/api/v1/scans/"+id, nil, &v); err != nil || v.Status == "RUNNING" {
			return false
		}
	}
	return true
}

// report prints what steward did, from its store, and each scan's
// summary.
func (d *demoDriver) report(ctx context.Context) error {
	r, err := demo.Collect(ctx, d.env.Store)
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	r.Print(d.out)
	if len(d.scans) > 0 {
		fmt.Fprintln(d.out, "\nScan summaries:")
		for _, id := range d.scans {
			var v struct {
				Playbook string          `json:"playbook"`
				Status   string          `json:"status"`
				Targets  int             `json:"targets"`
				Listed   int             `json:"listed"`
				Summary  json.RawMessage `json:"summary"`
				Error    string          `json:"error"`
			}
			if _, err := d.call(ctx, http.MethodGet, "/api/v1/scans/"+id, nil, &v); err != nil {
				fmt.Fprintf(d.out, "  %s: %v\n", id, err)
				continue
			}
			line := fmt.Sprintf("  %s (%s): %s in %d account-regions, %d resources listed", v.Playbook, id, strings.ToLower(v.Status), v.Targets, v.Listed)
			var sum map[string]int
			if json.Unmarshal(v.Summary, &sum) == nil && len(sum) > 0 {
				var parts []string
				for _, k := range []string{"fixed", "planned", "exception", "waitingApproval", "compliant", "kept", "notified", "running", "failed", "other"} {
					if sum[k] > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", k, sum[k]))
					}
				}
				if len(parts) > 0 {
					line += ": " + strings.Join(parts, ", ")
				}
			}
			if v.Error != "" {
				line += ", error: " + v.Error
			}
			fmt.Fprintln(d.out, line)
		}
	}
	return nil
}

// printNext prints the commands to try, those this build of steward has,
// with ids from the report where it has them.
func (d *demoDriver) printNext(ctx context.Context, url, dir string) {
	r, err := demo.Collect(ctx, d.env.Store)
	if err != nil {
		return
	}
	approval, change := "APPROVAL-ID", "CHANGE-ID"
	if len(r.Approvals) > 0 {
		approval = r.Approvals[0].ID
	}
	if ch := r.Undoable(); ch != nil {
		change = ch.ID
	}
	scanned := "ebs-unused"
	for _, pb := range playbooks.All() {
		if pb.Trigger == playbooks.TriggerSchedule {
			scanned = pb.Name
			break
		}
	}
	fmt.Fprintln(d.out, "\nTry next, in another terminal:")
	fmt.Fprintf(d.out, "  export STEWARD_ENDPOINT=%s\n", url)
	root := newRootCmd()
	for _, c := range []struct{ args, why string }{
		{"executions ls", "every execution, its playbook and status"},
		{"changes ls", "the change records: what was changed or planned, with before and after"},
		{"approvals ls", "the approvals waiting for a person"},
		{"approve " + approval + " --by you", "approve it: the playbook goes on"},
		{"rollback " + change + " --by you", "undo a change from its record"},
		{"scan --playbook " + scanned, "run a scheduled playbook's scan again"},
		{"task ls", "the tasks executions wait on, with their tokens"},
		{"playbooks ls", "the catalogue, and each playbook's stage per account class"},
	} {
		found, _, err := root.Find(strings.Fields(c.args))
		if err != nil || found == root {
			continue
		}
		line := "  steward " + c.args
		if found.Flags().Lookup("data") != nil || found.PersistentFlags().Lookup("data") != nil || found.InheritedFlags().Lookup("data") != nil {
			line += " --data " + dir
		}
		fmt.Fprintf(d.out, "%s\n      %s\n", line, c.why)
	}
	fmt.Fprintln(d.out, "Or change the simulated organisation with the AWS CLI, as a developer in the sandbox account, then scan again:")
	fmt.Fprintf(d.out, "  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s --region us-east-1 ec2 create-volume --availability-zone us-east-1a --size 8\n",
		demo.SandboxAccessKeyID, demo.SandboxSecretAccessKey, d.simURL)
	fmt.Fprintln(d.out, "steward keeps serving the simulated organisation until Ctrl-C.")
}
