package awssim

import (
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configures a Sim.
type Options struct {
	// Now returns the current time. Nil means time.Now. Tests pass a fake
	// clock so that "eventual" state changes happen when they advance it.
	Now func() time.Time
	// SettleDelay is how long a resource stays in a transitional state
	// (snapshot "pending", volume "deleting", instance "stopping", ...)
	// before it reaches its final state. Zero means the transition is
	// visible in the response of the mutating call and settled on the next read.
	SettleDelay time.Duration
	// Partition is the ARN partition; empty means "aws".
	Partition string
}

// Sim is an in-process simulated AWS. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu       sync.RWMutex
	accounts map[string]*Account // by account id
	keys     map[string]Credential
	services map[string]Service // by SigV4 signing name
	regions  []string
	seq      uint64

	faultMu sync.Mutex
	faults  Faults
	rng     *rand.Rand

	callMu sync.Mutex
	calls  map[string]int
}

// New returns a Sim with the query/XML services (sts, ec2, iam,
// elasticloadbalancing, rds, sns), CloudWatch (monitoring) and the REST and
// JSON services (s3, route53, cloudfront, cloudtrail, organizations,
// tagging, securityhub) registered and no accounts. Add accounts with Apply or AddAccount.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Partition == "" {
		opts.Partition = "aws"
	}
	s := &Sim{
		opts:     opts,
		accounts: map[string]*Account{},
		keys:     map[string]Credential{},
		services: map[string]Service{},
		calls:    map[string]int{},
		rng:      rand.New(rand.NewSource(1)),
	}
	s.Register(newSTS(s))
	s.Register(newEC2(s))
	s.Register(newIAM(s))
	s.Register(newELBv2(s))
	s.Register(newRDS(s))
	s.Register(newSNS(s))
	s.Register(newCloudWatch(s))
	s.Register(newS3(s))
	s.Register(newRoute53(s))
	s.Register(newCloudFront(s))
	s.Register(newCloudTrail(s))
	s.Register(newOrganizations(s))
	s.Register(newTagging(s))
	s.Register(newSecurityHub(s))
	s.ExtendEC2Volumes()
	s.ExtendIAM()
	return s
}

// Register adds (or replaces) the service that serves requests signed for
// svc.SigningName().
func (s *Sim) Register(svc Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[svc.SigningName()] = svc
}

// Now returns the sim's current time (Options.Now), in UTC.
func (s *Sim) Now() time.Time { return s.opts.Now().UTC() }

// Partition returns the ARN partition, "aws" by default.
func (s *Sim) Partition() string { return s.opts.Partition }

// Handler returns the HTTP handler that serves every registered service.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the sim on 127.0.0.1 with a random port. It returns the
// base URL (for aws.Config.BaseEndpoint) and a function that stops the server.
func (s *Sim) Start() (url string, closeFunc func()) {
	srv := httptest.NewServer(s.Handler())
	return srv.URL, srv.Close
}

// Faults makes a share of calls fail, deterministically for a given Seed
// and call order.
type Faults struct {
	// ThrottleRate is the share of calls (0..1) answered with the
	// protocol's throttling error.
	ThrottleRate float64
	// ErrorRate is the share of calls (0..1) answered with InternalError 500.
	ErrorRate float64
	// Seed seeds the random source that picks the failing calls.
	Seed int64
}

// SetFaults sets the fault injection rates; the zero Faults turns them off.
func (s *Sim) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewSource(f.Seed))
}

// drawFault returns the fault to inject for one call, or "" for none.
func (s *Sim) drawFault() string {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.faults.ThrottleRate <= 0 && s.faults.ErrorRate <= 0 {
		return ""
	}
	x := s.rng.Float64()
	switch {
	case x < s.faults.ThrottleRate:
		return "throttle"
	case x < s.faults.ThrottleRate+s.faults.ErrorRate:
		return "error"
	}
	return ""
}

// Calls returns the number of API calls served since the last ResetCalls,
// keyed "service:Action" (service is the SigV4 signing name), plus "total".
// Calls answered with an injected fault or an error are counted too.
func (s *Sim) Calls() map[string]int {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every call count to zero.
func (s *Sim) ResetCalls() {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	s.calls = map[string]int{}
}

func (s *Sim) countCall(service, action string) {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	s.calls[service+":"+action]++
	s.calls["total"]++
}

// nextID returns a process-unique number used to make resource ids.
func (s *Sim) nextID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// newID returns an AWS-looking id: prefix + "-" + 17 hex digits.
func (s *Sim) newID(prefix string) string {
	return fmt.Sprintf("%s-%017x", prefix, s.nextID()|0x0a00000000000000)
}

// requestID returns a fresh request id in UUID form.
func (s *Sim) requestID() string {
	n := s.nextID()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(n>>32), uint16(n>>16), n&0xfff, (n>>12)&0xfff, n)
}

// maxBody is the largest request body the sim reads.
const maxBody = 8 << 20

func (s *Sim) serveHTTP(w http.ResponseWriter, hr *http.Request) {
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	scope, authErr := parseAuthorization(hr.Header.Get("Authorization"))
	s.mu.RLock()
	svc := s.services[scope.Service]
	s.mu.RUnlock()
	if svc == nil {
		// Without a scope we cannot tell the protocol: answer as AWS's
		// front end does for an unsigned or unknown request.
		writeQueryError(w, "", &APIError{Status: http.StatusForbidden, Code: "MissingAuthenticationToken",
			Message: "Request is missing Authentication Token", Sender: true})
		return
	}
	req := &Request{HTTP: hr, Body: body, Service: scope.Service, Region: scope.Region, AccessKeyID: scope.AccessKeyID, Sim: s}
	req.RequestID = s.requestID()
	op, opErr := svc.Operation(req)
	req.Action = op
	if op == "" {
		op = "Unknown"
	}
	s.countCall(scope.Service, op)
	if authErr != nil {
		svc.WriteError(w, req, authFailure(scope.Service, "Authorization header is missing or malformed"))
		return
	}
	cred, ok, expired := s.lookupCredential(scope.AccessKeyID)
	if !ok {
		svc.WriteError(w, req, authFailure(scope.Service, ""))
		return
	}
	if expired {
		svc.WriteError(w, req, expiredToken(scope.Service))
		return
	}
	if cred.SessionToken != "" && hr.Header.Get("X-Amz-Security-Token") != cred.SessionToken {
		// Temporary keys are valid only with their session token.
		svc.WriteError(w, req, authFailure(scope.Service, ""))
		return
	}
	req.Account = cred.Account
	req.Principal = cred.Principal
	if req.Region == "" {
		req.Region = "us-east-1"
	}
	if opErr != nil {
		svc.WriteError(w, req, asAPIError(opErr))
		return
	}
	switch s.drawFault() {
	case "throttle":
		svc.WriteError(w, req, throttleError(scope.Service))
		return
	case "error":
		svc.WriteError(w, req, &APIError{Status: 500, Code: "InternalError",
			Message: "An internal error has occurred", Sender: false})
		return
	}
	svc.Serve(w, req)
}

// authFailure is the error for an unknown access key, per protocol.
func authFailure(service, msg string) *APIError {
	if service == "ec2" {
		if msg == "" {
			msg = "AWS was not able to validate the provided access credentials"
		}
		return &APIError{Status: http.StatusUnauthorized, Code: "AuthFailure", Message: msg, Sender: true}
	}
	if msg == "" {
		msg = "The security token included in the request is invalid."
	}
	return &APIError{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: msg, Sender: true}
}

// expiredToken is the error for expired temporary credentials, per protocol.
func expiredToken(service string) *APIError {
	if service == "ec2" {
		return &APIError{Status: http.StatusBadRequest, Code: "RequestExpired", Message: "Request has expired.", Sender: true}
	}
	return &APIError{Status: http.StatusForbidden, Code: "ExpiredToken", Message: "The security token included in the request is expired", Sender: true}
}

// throttleError is the protocol's throttling error.
func throttleError(service string) *APIError {
	switch service {
	case "ec2":
		return &APIError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded",
			Message: "Request limit exceeded.", Sender: true}
	case "s3":
		return &APIError{Status: http.StatusServiceUnavailable, Code: "SlowDown",
			Message: "Please reduce your request rate.", Sender: false}
	case "route53", "cloudfront":
		return &APIError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded", Sender: true}
	case "cloudtrail":
		return &APIError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded", Sender: true}
	case "tagging":
		return &APIError{Status: http.StatusBadRequest, Code: "ThrottledException", Message: "Rate exceeded", Sender: true}
	case "organizations":
		return &APIError{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException",
			Message: "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.", Sender: true}
	case "securityhub":
		return &APIError{Status: http.StatusTooManyRequests, Code: "LimitExceededException", Message: "Rate exceeded", Sender: true}
	}
	return &APIError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded", Sender: true}
}

// Regions returns the regions the scenario declared, sorted.
func (s *Sim) Regions() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := append([]string(nil), s.regions...)
	sort.Strings(out)
	return out
}

func (s *Sim) addRegion(r string) {
	for _, x := range s.regions {
		if x == r {
			return
		}
	}
	s.regions = append(s.regions, r)
}

// arn builds an ARN in the sim's partition.
func (s *Sim) arn(service, region, account, resource string) string {
	return strings.Join([]string{"arn", s.opts.Partition, service, region, account, resource}, ":")
}

// NewID returns a fresh AWS-looking resource id with the given prefix
// ("vol", "hostedzone"...), unique within the sim, for services added by
// other packages.
func (s *Sim) NewID(prefix string) string { return s.newID(prefix) }
