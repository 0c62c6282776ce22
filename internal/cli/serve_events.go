package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/api/eventsapi"
	"github.com/stewardhq/steward/internal/api/sigv4"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/ingest"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/playbooks"
)

// Ingest token: what EventBridge API destinations (and SNS subscriptions)
// send to POST /events and POST /sns.
const (
	envIngestToken  = "STEWARD_INGEST_TOKEN"
	ingestTokenFile = "ingest-token"
)

// loadOrCreateIngestToken reads the ingest token from the environment or
// the data directory, or makes one (stored with mode 0600).
func loadOrCreateIngestToken(dataDir string) (token string, created bool, err error) {
	if t := os.Getenv(envIngestToken); t != "" {
		return t, false, nil
	}
	path := filepath.Join(dataDir, ingestTokenFile)
	data, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(data)); t != "" {
			return t, false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	token = hex.EncodeToString(b)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, err
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, err
	}
	return token, true, nil
}

// eventsServer is the event side of steward serve: ingest, rules, the
// dispatcher that starts playbooks, and steward's JSON API.
type eventsServer struct {
	handler    http.Handler
	mux        *http.ServeMux
	rules      *rules.Set
	dispatcher *rules.Dispatcher
}

type eventsConfig struct {
	events      store.EventStore
	engine      *engine.Engine
	sfnAPI      http.Handler
	keys        sigv4.Keys
	ingestToken string
	rulesFile   string
	// api receives steward's JSON API routes; it is served under /api/v1/
	// behind SigV4.
	api     *http.ServeMux
	account string
	region  string
	logf    func(string, ...any)
}

func newEventsServer(ctx context.Context, c eventsConfig) (*eventsServer, error) {
	// A rule may name a catalogue playbook: the catalogue's serve part
	// creates its state machine after the rules file is read.
	exists := func(name string) bool {
		if playbooks.Exists(name) {
			return true
		}
		_, err := c.engine.DescribeStateMachine(ctx, c.engine.StateMachineARN(name))
		return err == nil
	}
	set := rules.NewSet(exists)
	if c.rulesFile != "" {
		file, err := rules.LoadFile(c.rulesFile)
		if err != nil {
			return nil, err
		}
		if err := set.PutAll(file.Rules); err != nil {
			return nil, withHint(fmt.Errorf("rules file %s: %w", c.rulesFile, err), "a rule's playbooks must exist as state machines; create them first")
		}
	}
	if err := eventsapi.LoadRules(ctx, c.events, set); err != nil {
		c.logf("some saved rules were not loaded: %v", err)
	}
	d := &rules.Dispatcher{Events: c.events, Rules: set, Starter: rules.EngineStarter{Engine: c.engine}}

	stewardAuth := &sigv4.Verifier{Keys: c.keys, Service: "steward"}
	eventsAuth := &sigv4.Verifier{Keys: c.keys, Service: "events"}
	in := &ingest.Handler{
		Appender: ingest.StoreAppender{Events: c.events},
		Token:    c.ingestToken,
		VerifySigV4: func(r *http.Request, body []byte) (string, error) {
			id, err := eventsAuth.Verify(r, body)
			return id.AccessKeyID, err
		},
		VerifyStewardSigV4: func(r *http.Request, body []byte) error {
			_, err := stewardAuth.Verify(r, body)
			return err
		},
		SNS:                 &ingest.SNSVerifier{},
		ConfirmSubscription: confirmSNSSubscription,
		Account:             c.account,
		Region:              c.region,
		Accepted:            func([]ingest.Event) { d.Notify() },
	}
	jsonAPI := (&eventsapi.Handler{Events: c.events, Rules: set, Dispatcher: d}).Routes()

	mux := http.NewServeMux()
	mux.HandleFunc("/events", in.ServeEvents)
	mux.HandleFunc("/sns", in.ServeSNS)
	c.api.Handle("/api/v1/", jsonAPI)
	mux.Handle("/api/v1/", signedBy(stewardAuth, c.api))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSEvents.") {
			if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"steward serves only PutEvents of the EventBridge API"}`)
				return
			}
			in.ServePutEvents(w, r)
			return
		}
		c.sfnAPI.ServeHTTP(w, r)
	})
	return &eventsServer{handler: mux, mux: mux, rules: set, dispatcher: d}, nil
}

// signedBy lets through only requests signed with one of the keys.
func signedBy(v *sigv4.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"error":"the request body is too large"}`, http.StatusRequestEntityTooLarge)
			return
		}
		if _, err := v.Verify(r, body); err != nil {
			w.Header().Set("Content-Type", "application/json")
			status := http.StatusForbidden
			if errors.Is(err, sigv4.ErrMissingAuth) {
				status = http.StatusUnauthorized
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

var snsClient = &http.Client{Timeout: 15 * time.Second}

// confirmSNSSubscription visits a verified SubscriptionConfirmation's
// SubscribeURL, which must be an SNS host.
func confirmSNSSubscription(ctx context.Context, subscribeURL string) error {
	u, err := url.Parse(subscribeURL)
	if err != nil || u.Scheme != "https" || !strings.HasPrefix(u.Hostname(), "sns.") || !strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		return fmt.Errorf("refusing to visit %q: not an SNS URL", subscribeURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
	if err != nil {
		return err
	}
	resp, err := snsClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("SNS answered %s", resp.Status)
	}
	return nil
}
