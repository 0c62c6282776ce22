package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/time/rate"

	"github.com/stewardhq/steward/internal/clock"
)

// Sentinel errors of Cloud.
var (
	// ErrUnknownService reports a service steward has no client for.
	ErrUnknownService = errors.New("unknown service")
	// ErrAssumeRole reports a role that could not be assumed.
	ErrAssumeRole = errors.New("cannot assume role")
	// ErrNoCredentials reports that steward has no credentials of its own.
	ErrNoCredentials = errors.New("no AWS credentials")
)

// Target is where a call acts: an account and a region.
type Target struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

func (t Target) String() string { return "account " + t.Account + " region " + t.Region }

// Key names one client: a service in an account and region. Its rate
// limiter and counters are per Key.
type Key struct {
	Account string
	Region  string
	Service string
}

func (k Key) String() string { return k.Service + "@" + k.Account + "/" + k.Region }

// DefaultRates are the rates of services whose AWS quota is below the
// default Rate: CloudTrail's LookupEvents allows 2 requests per second per
// account and region (AWS's documented quota), so steward paces itself
// there instead of being throttled.
var DefaultRates = map[string]Rate{
	"cloudtrail": {Limit: 2, Burst: 2},
}

// Rate is a token bucket: Limit calls per second on average, up to Burst
// at once.
type Rate struct {
	Limit float64
	Burst int
}

// Config configures a Cloud. The zero value works against AWS with the
// default credential chain, in the inventory's accounts.
type Config struct {
	// Inventory lists the accounts and regions to act in, and the role to
	// assume in each. Nil allows any account, with RoleTemplate.
	Inventory *Inventory
	// RoleTemplate is the role for accounts when Inventory is nil, e.g.
	// "arn:aws:iam::{account}:role/steward-remediator". Empty means use
	// steward's own credentials.
	RoleTemplate string
	// Credentials are steward's own credentials, used to assume roles (and
	// directly in accounts without a role). Nil means the SDK's default
	// chain (environment, shared config, container or instance role).
	Credentials aws.CredentialsProvider
	// Endpoint, when set, is the base URL of every service (LocalStack,
	// moto, internal/awssim). Empty means AWS_ENDPOINT_URL, and when that
	// is empty too, AWS's own endpoints.
	Endpoint string
	// HomeRegion is the region for STS and Organizations calls made with
	// steward's own credentials. Default us-east-1.
	HomeRegion string
	// DefaultAccount and DefaultRegion are where aws-sdk tasks act when
	// neither the Task's Credentials nor the context says.
	DefaultAccount string
	DefaultRegion  string
	// RoleSessionName names steward's sessions; default "steward".
	RoleSessionName string
	// ExternalID is passed to AssumeRole when set.
	ExternalID string
	// SessionDuration is how long assumed-role credentials last; default 1h.
	SessionDuration time.Duration
	// RefreshBefore is how long before expiry credentials are renewed;
	// default 5 minutes.
	RefreshBefore time.Duration
	// Clock tells the time for credential expiry; default the real clock.
	Clock clock.Clock
	// Rate is the token bucket per (account, region, service); default
	// 20 calls per second, burst 40.
	Rate Rate
	// Rates overrides Rate per service (by Step Functions service name,
	// e.g. "ec2", "iam"); DefaultRates fills in the services it leaves out.
	Rates map[string]Rate
	// MaxAttempts bounds the attempts of one call; default 1,000,000, so
	// that in practice only the call's context ends retrying.
	MaxAttempts int
	// MaxUnreachableAttempts bounds the attempts of a call whose endpoint
	// does not answer at all (connection refused, unknown host); default 6.
	MaxUnreachableAttempts int
	// BaseDelay and MaxBackoff shape the retry backoff: attempt n waits a
	// random time in [0, min(MaxBackoff, BaseDelay*2^(n-1))). Defaults 1s
	// and 20s, as the SDK's.
	BaseDelay  time.Duration
	MaxBackoff time.Duration
	// HTTPClient carries every request; default one shared SDK client.
	HTTPClient aws.HTTPClient
}

// Cloud makes AWS clients per (account, region, service). It is safe for
// concurrent use.
type Cloud struct {
	cfg      Config
	endpoint string
	http     aws.HTTPClient
	base     aws.CredentialsProvider
	creds    *roleCache

	mu      sync.Mutex
	clients map[clientKey]any
	limits  map[Key]*keyState
}

// keyState is the limiter and counters of one Key.
type keyState struct {
	limiter   *rate.Limiter
	calls     counter
	attempts  counter
	throttles counter
}

// New returns a Cloud. It resolves steward's own credentials (without
// calling AWS) and the endpoint.
func New(ctx context.Context, cfg Config) (*Cloud, error) {
	if cfg.HomeRegion == "" {
		cfg.HomeRegion = "us-east-1"
	}
	if cfg.RoleSessionName == "" {
		cfg.RoleSessionName = "steward"
	}
	if cfg.SessionDuration == 0 {
		cfg.SessionDuration = time.Hour
	}
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	rates := make(map[string]Rate, len(DefaultRates)+len(cfg.Rates))
	if cfg.Rate.Limit <= 0 { // steward's defaults: AWS's lower quotas too
		for k, v := range DefaultRates {
			rates[k] = v
		}
	}
	for k, v := range cfg.Rates {
		rates[k] = v
	}
	cfg.Rates = rates
	if cfg.Rate.Limit <= 0 {
		cfg.Rate = Rate{Limit: 20, Burst: 40}
	}
	if cfg.Rate.Burst <= 0 {
		cfg.Rate.Burst = 1
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 1_000_000
	}
	if cfg.MaxUnreachableAttempts <= 0 {
		cfg.MaxUnreachableAttempts = 6
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 20 * time.Second
	}
	if err := checkRoleTemplate(cfg.RoleTemplate); err != nil {
		return nil, fmt.Errorf("cloud config: %w", err)
	}
	c := &Cloud{cfg: cfg, clients: map[clientKey]any{}, limits: map[Key]*keyState{}}
	c.endpoint = cfg.Endpoint
	if c.endpoint == "" {
		c.endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	c.endpoint = strings.TrimRight(c.endpoint, "/")
	c.http = cfg.HTTPClient
	if c.http == nil {
		hc, err := newHTTPClient(c.endpoint)
		if err != nil {
			return nil, err
		}
		c.http = hc
	}
	c.base = cfg.Credentials
	if c.base == nil {
		base, err := defaultCredentials(ctx, cfg.HomeRegion, c.http)
		if err != nil {
			return nil, err
		}
		c.base = base
	}
	c.creds = newRoleCache(c)
	return c, nil
}

// defaultCredentials returns steward's own credentials when Config has
// none: the access key in the environment, if any, read directly (so that
// nothing else, such as a CA bundle meant for https, can get in the way
// of a local endpoint); otherwise the SDK's default chain (shared config,
// SSO, container or instance role).
func defaultCredentials(ctx context.Context, region string, hc aws.HTTPClient) (aws.CredentialsProvider, error) {
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")), nil
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if _, ok := hc.(*awshttp.BuildableClient); ok {
		opts = append(opts, config.WithHTTPClient(hc))
	}
	lc, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	if lc.Credentials == nil {
		return nil, ErrNoCredentials
	}
	return aws.NewCredentialsCache(lc.Credentials), nil
}

// newHTTPClient returns the SDK's HTTP client. AWS_CA_BUNDLE, when set, is
// added to the trusted roots for https endpoints only: a plain-http
// endpoint (a local simulator) never needs it, and a bad bundle must not
// stop one from working.
func newHTTPClient(endpoint string) (aws.HTTPClient, error) {
	hc := awshttp.NewBuildableClient()
	bundle := os.Getenv("AWS_CA_BUNDLE")
	if bundle == "" || strings.HasPrefix(strings.ToLower(endpoint), "http://") {
		return hc, nil
	}
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificates in it", bundle)
	}
	return hc.WithTransportOptions(func(t *http.Transport) {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.RootCAs = pool
	}), nil
}

// Endpoint returns the endpoint in use, or "" for AWS's own.
func (c *Cloud) Endpoint() string { return c.endpoint }

// Inventory returns the configured inventory (nil when any account is
// allowed).
func (c *Cloud) Inventory() *Inventory { return c.cfg.Inventory }

// ClassOf returns an account's class in the inventory: "" for an account
// it does not list, or when there is no inventory (or no Cloud).
func (c *Cloud) ClassOf(account string) string {
	if c == nil || c.cfg.Inventory == nil {
		return ""
	}
	a, err := c.cfg.Inventory.Account(account)
	if err != nil {
		return ""
	}
	return a.Class
}

// roleFor returns the role to assume in account ("" for none) after
// checking the account and region against the inventory. Global services
// skip the region check.
func (c *Cloud) roleFor(account, region string, global bool) (string, error) {
	if !ValidAccountID(account) {
		return "", fmt.Errorf("%w %q: account ids are 12 digits", ErrUnknownAccount, account)
	}
	if region == "" || (!global && !ValidRegion(region)) {
		return "", fmt.Errorf("%w %q", ErrUnknownRegion, region)
	}
	if c.cfg.Inventory == nil {
		return RoleFor(c.cfg.RoleTemplate, account), nil
	}
	a, err := c.cfg.Inventory.Account(account)
	if err != nil {
		return "", err
	}
	if !global && !a.HasRegion(region) {
		return "", fmt.Errorf("%w %q for account %s (it acts in %s)", ErrUnknownRegion, region, account, strings.Join(a.Regions, ", "))
	}
	return a.Role, nil
}

// Credentials returns the credentials steward uses in account: the
// assumed role's (cached) or, without a role, steward's own.
func (c *Cloud) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	role, err := c.roleFor(account, c.cfg.HomeRegion, true)
	if err != nil {
		return aws.Credentials{}, err
	}
	if role == "" {
		return c.base.Retrieve(ctx)
	}
	return c.creds.get(ctx, role)
}

// RoleCredentials returns cached credentials for a role ARN, assuming it
// when the cache has none or they are about to expire. Concurrent callers
// for one role share one AssumeRole call.
func (c *Cloud) RoleCredentials(ctx context.Context, roleARN string) (aws.Credentials, error) {
	return c.creds.get(ctx, roleARN)
}

// AWSConfig returns the aws.Config for a service in an account and region:
// credentials of the account's role, the endpoint, the shared HTTP client,
// the standard retryer and the Key's rate limiter. Service is the Step
// Functions service name (e.g. "ec2"); it picks the limiter.
func (c *Cloud) AWSConfig(ctx context.Context, service, account, region string) (aws.Config, error) {
	spec, global := serviceSpecs[service]
	global = global && spec.Global
	role, err := c.roleFor(account, region, global)
	if err != nil {
		return aws.Config{}, err
	}
	var creds aws.CredentialsProvider = c.base
	if role != "" {
		creds = roleProvider{c: c, role: role}
	}
	return c.configFor(Key{Account: account, Region: region, Service: service}, creds), nil
}

// baseConfig is the config for calls made with steward's own credentials
// (AssumeRole, Organizations). Its Key's account is "".
func (c *Cloud) baseConfig(service string) aws.Config {
	return c.configFor(Key{Region: c.cfg.HomeRegion, Service: service}, c.base)
}

func (c *Cloud) configFor(k Key, creds aws.CredentialsProvider) aws.Config {
	st := c.state(k)
	cfg := aws.Config{
		Region:      k.Region,
		Credentials: creds,
		HTTPClient:  c.http,
		Retryer:     c.newRetryer,
		APIOptions:  limitOptions(st),
	}
	if c.endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.endpoint)
	}
	return cfg
}

// state returns the limiter and counters of a Key, creating them.
func (c *Cloud) state(k Key) *keyState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.limits[k]
	if st == nil {
		r := c.cfg.Rate
		if o, ok := c.cfg.Rates[k.Service]; ok && o.Limit > 0 {
			r = o
			if r.Burst <= 0 {
				r.Burst = 1
			}
		}
		st = &keyState{limiter: rate.NewLimiter(rate.Limit(r.Limit), r.Burst)}
		c.limits[k] = st
	}
	return st
}

// Client returns the SDK client of a service (Step Functions name, e.g.
// "ec2", "elasticloadbalancingv2") for an account and region, built once
// and kept. The value is the service's *Client type (e.g. *ec2.Client).
func (c *Cloud) Client(ctx context.Context, service, account, region string) (any, error) {
	return c.client(ctx, service, account, region, "")
}

// clientKey names a client: a Key, and the role it was made for when that
// is not the account's own (a Task's Credentials.RoleArn).
type clientKey struct {
	Key
	role string
}

func (c *Cloud) client(ctx context.Context, service, account, region, role string) (any, error) {
	spec, ok := serviceSpecs[service]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownService, service, strings.Join(ServiceNames(), ", "))
	}
	if spec.Global {
		// One endpoint, and one throttle, for the whole account.
		region = c.cfg.HomeRegion
	}
	k := clientKey{Key: Key{Account: account, Region: region, Service: service}, role: role}
	c.mu.Lock()
	cl, ok := c.clients[k]
	c.mu.Unlock()
	if ok {
		return cl, nil
	}
	cfg, err := c.AWSConfig(ctx, service, account, region)
	if err != nil {
		return nil, err
	}
	if role != "" {
		cfg.Credentials = roleProvider{c: c, role: role}
	}
	cl = spec.New(cfg, c.endpoint != "")
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.clients[k]; ok {
		return prev, nil
	}
	c.clients[k] = cl
	return cl, nil
}

// ClientFor returns Cloud.Client's value as the service's client type T,
// e.g. ClientFor[*ec2.Client](ctx, c, "ec2", account, region).
func ClientFor[T any](ctx context.Context, c *Cloud, service, account, region string) (T, error) {
	var zero T
	cl, err := c.Client(ctx, service, account, region)
	if err != nil {
		return zero, err
	}
	t, ok := cl.(T)
	if !ok {
		return zero, fmt.Errorf("client for %s is %T, not %T", service, cl, zero)
	}
	return t, nil
}

// Stats are the counters of one Key.
type Stats struct {
	// Calls is the number of API operations started.
	Calls int64
	// Attempts is the number of HTTP attempts, retries included.
	Attempts int64
	// Throttles is the number of attempts answered with a throttling error.
	Throttles int64
}

// Throttles returns how many throttling errors calls to a service in an
// account and region have met.
func (c *Cloud) Throttles(account, region, service string) int64 {
	return c.Stats()[Key{Account: account, Region: region, Service: service}].Throttles
}

// Stats returns the counters of every Key used so far. Calls made with
// steward's own credentials (AssumeRole, Organizations) have an empty
// Account.
func (c *Cloud) Stats() map[Key]Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Key]Stats, len(c.limits))
	for k, st := range c.limits {
		out[k] = Stats{Calls: st.calls.load(), Attempts: st.attempts.load(), Throttles: st.throttles.load()}
	}
	return out
}

// TotalStats sums Stats over every Key.
func (c *Cloud) TotalStats() Stats {
	var t Stats
	for _, s := range c.Stats() {
		t.Calls += s.Calls
		t.Attempts += s.Attempts
		t.Throttles += s.Throttles
	}
	return t
}
