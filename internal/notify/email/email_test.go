package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

const (
	user     = "steward"
	password = "pa55-w0rd-never-logged"
)

// smtpServer is a real SMTP server on 127.0.0.1 with STARTTLS (self-signed
// certificate) and AUTH PLAIN only over TLS, recording what it receives.
type smtpServer struct {
	addr    string
	port    int
	roots   *x509.CertPool
	mu      sync.Mutex
	msgs    []received
	tempErr int // answer this many DATA commands with 451
}

type received struct {
	From, To string
	TLS      bool
	AuthUser string
	Data     []byte
}

type session struct {
	s    *smtpServer
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, pw string) error {
		if username != user || pw != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		s.cur.AuthUser = username
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.AuthUser == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.cur.To = to; return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.s.mu.Lock()
	defer s.s.mu.Unlock()
	if s.s.tempErr > 0 {
		s.s.tempErr--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.Data = b
	s.s.msgs = append(s.s.msgs, s.cur)
	return nil
}
func (s *session) Reset()        { s.cur = received{AuthUser: s.cur.AuthUser} }
func (s *session) Logout() error { return nil }

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "steward test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	s := &smtpServer{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, conn: c}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.AllowInsecureAuth = false // AUTH only after STARTTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	s.port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) mailer(t *testing.T, pw string, ws *[]time.Duration) *Mailer {
	t.Helper()
	m, err := New(Config{Host: "127.0.0.1", Port: s.port, Username: user, Password: pw, From: "steward <steward@example.com>",
		TLSConfig: &tls.Config{RootCAs: s.roots}, Timeout: 5 * time.Second,
		Retry: notify.RetryPolicy{SleepFunc: func(_ context.Context, d time.Duration) error {
			if ws != nil {
				*ws = append(*ws, d)
			}
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parts splits a received message into its plain-text and HTML parts.
func parts(t *testing.T, data []byte) (*mail.Message, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	var text, html string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return msg, text, html
}

var (
	linkRE = regexp.MustCompile(`https?://[^\s"<>]+/approve/[A-Za-z0-9._-]+`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// TestEmailEndToEnd: a notice with signed links goes through a real SMTP
// server over STARTTLS; the test reads the links from the received mail,
// opens one (nothing changes), confirms it (the decision arrives), and the
// same link again is refused.
func TestEmailEndToEnd(t *testing.T) {
	s := startSMTP(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var decisions []approve.Decision

	// The approval web endpoint.
	mux := http.NewServeMux()
	web := httptest.NewServer(mux)
	defer web.Close()
	signer, err := approve.NewSigner(approve.SignerConfig{Key: approve.NewKey(), BaseURL: web.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := approve.NewHandler(approve.HandlerConfig{Signer: signer, Used: &approve.MemoryUsed{}, Decide: func(_ context.Context, d approve.Decision) error {
		mu.Lock()
		defer mu.Unlock()
		decisions = append(decisions, d)
		return nil
	}})
	mux.Handle("/approve/", h)

	exec := "arn:aws:states:us-east-1:111111111111:execution:ec2-manual-launch:run-42"
	n := notify.Notice{
		ApprovalID: "appr-42", ExecutionARN: exec, Playbook: "ec2-manual-launch", Title: "Instance launched by hand",
		Resources: []notify.Resource{
			{Account: "111111111111", Region: "us-east-1", ID: "i-0123456789abcdef0", Type: "AWS::EC2::Instance", Owner: "alice@example.com"},
			{Account: "111111111111", Region: "us-east-1", ID: "i-0123456789abcdef1", Type: "AWS::EC2::Instance", Owner: "alice@example.com"},
		},
		Owner:  notify.Owner{Raw: "alice@example.com", Email: "alice@example.com"},
		Action: "quarantine the instances", Deadline: now.Add(48 * time.Hour), DefaultAction: approve.ChoiceApprove, AccountClass: "production",
		Choices: notify.Choices(true, func(c approve.Choice) string {
			return signer.Link(approve.Claims{ApprovalID: "appr-42", ExecutionARN: exec, Choice: c, Expires: now.Add(48 * time.Hour)})
		}),
	}
	m := s.mailer(t, password, nil)
	rcpt, err := m.Notify(context.Background(), notify.Recipient{Kind: notify.KindEmail, Address: "alice@example.com"}, n)
	if err != nil {
		t.Fatal(err)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	r := got[0]
	if !r.TLS || r.AuthUser != user || r.From != "steward@example.com" || r.To != "alice@example.com" {
		t.Fatalf("envelope %+v", r)
	}
	msg, text, html := parts(t, r.Data)
	if !strings.Contains(msg.Header.Get("Subject"), "ec2-manual-launch") || msg.Header.Get("Message-Id") == "" ||
		!strings.Contains(rcpt.ID, strings.Trim(msg.Header.Get("Message-Id"), "<>")) {
		t.Fatalf("headers %v, receipt %+v", msg.Header, rcpt)
	}
	for _, want := range []string{"i-0123456789abcdef0", "i-0123456789abcdef1", "quarantine the instances", "Exception for 1 year", exec} {
		if !strings.Contains(text, want) || !strings.Contains(html, want) {
			t.Errorf("a part lacks %q\ntext:\n%s\nhtml:\n%s", want, text, html)
		}
	}
	textLinks, htmlLinks := linkRE.FindAllString(text, -1), linkRE.FindAllString(html, -1)
	if len(textLinks) != 4 || strings.Join(textLinks, " ") != strings.Join(htmlLinks, " ") {
		t.Fatalf("links: text %v html %v", textLinks, htmlLinks)
	}
	var link string
	for _, l := range textLinks {
		tok := l[strings.LastIndexByte(l, '/')+1:]
		c, err := signer.Verify(tok)
		if err != nil {
			t.Fatalf("link %s: %v", l, err)
		}
		if c.Choice == approve.ChoiceException1M {
			link = l
		}
	}

	// A scanner and the person open the link: nothing changes.
	var page string
	for i := 0; i < 2; i++ {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d", resp.StatusCode)
		}
	}
	if len(decisions) != 0 {
		t.Fatal("GET decided")
	}
	csrf := csrfRE.FindStringSubmatch(page)[1]
	post := func() int {
		resp, err := http.PostForm(link, url.Values{"csrf": {csrf}, "by": {"alice@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != 200 {
		t.Fatalf("POST %d", code)
	}
	if len(decisions) != 1 || decisions[0].Choice != approve.ChoiceException1M || decisions[0].ExecutionARN != exec || decisions[0].By.Email != "alice@example.com" {
		t.Fatalf("decisions %+v", decisions)
	}
	if code := post(); code != http.StatusGone {
		t.Fatalf("second POST %d", code)
	}
}

func TestEmailFailures(t *testing.T) {
	ctx := context.Background()
	to := notify.Recipient{Kind: notify.KindEmail, Address: "bob@example.com"}
	n := notify.Notice{ApprovalID: "a", Playbook: "p", Title: "t", Choices: notify.Choices(false, nil)}

	// 451 twice, then accepted: retried with backoff.
	s := startSMTP(t)
	s.tempErr = 2
	var ws []time.Duration
	if _, err := s.mailer(t, password, &ws).Notify(ctx, to, n); err != nil {
		t.Fatal(err)
	}
	if len(s.received()) != 1 || len(ws) != 2 {
		t.Fatalf("received %d, waits %v", len(s.received()), ws)
	}

	// Wrong password: permanent, not retried, password not in the error.
	_, err := s.mailer(t, "wrong-"+password, nil).Notify(ctx, to, n)
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Transient || de.Attempts != 1 || strings.Contains(err.Error(), password) {
		t.Fatalf("bad password: %v", err)
	}

	// Server down: transient after the bounded attempts.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ws = nil
	down, _ := New(Config{Host: "127.0.0.1", Port: port, Username: user, Password: password, From: "steward@example.com", Timeout: time.Second,
		Retry: notify.RetryPolicy{SleepFunc: func(_ context.Context, d time.Duration) error { ws = append(ws, d); return nil }}})
	_, err = down.Notify(ctx, to, n)
	if !errors.As(err, &de) || !de.Transient || de.Attempts != 4 || len(ws) != 3 {
		t.Fatalf("server down: %v (waits %v)", err, ws)
	}

	// A certificate we do not trust: permanent, nothing sent.
	untrusting, _ := New(Config{Host: "127.0.0.1", Port: s.port, Username: user, Password: password, From: "steward@example.com",
		TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}, Timeout: time.Second})
	before := len(s.received())
	if _, err := untrusting.Notify(ctx, to, n); !errors.As(err, &de) || de.Transient {
		t.Fatalf("untrusted cert: %v", err)
	}
	if len(s.received()) != before {
		t.Fatal("sent over an untrusted connection")
	}

	if _, err := New(Config{Host: "h", From: "not an address"}); err == nil {
		t.Fatal("bad From accepted")
	}
	if _, err := s.mailer(t, password, nil).Notify(ctx, notify.Recipient{Kind: notify.KindSlack, Address: "U1"}, n); err == nil {
		t.Fatal("sent to a Slack recipient")
	}
}

func TestRenderHTMLEscapes(t *testing.T) {
	n := notify.Notice{Title: `<script>alert(1)</script>`, Playbook: "p",
		Resources: []notify.Resource{{Account: "1", ID: `"><img src=x onerror=alert(1)>`}},
		Choices:   []notify.Option{{Choice: approve.ChoiceApprove, URL: "javascript:alert(1)"}, {Choice: approve.ChoiceDeny, URL: "https://steward.example.com/approve/x"}}}
	html, err := RenderHTML([]notify.Notice{n})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<img") || strings.Contains(html, "javascript:") {
		t.Fatalf("unescaped:\n%s", html)
	}
	if !strings.Contains(html, `href="https://steward.example.com/approve/x"`) {
		t.Fatalf("link lost:\n%s", html)
	}
}

// TestEmailRefusesPlaintext: a server that offers no STARTTLS gets nothing,
// neither the password nor the links.
func TestEmailRefusesPlaintext(t *testing.T) {
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, conn: c}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // a server that would take AUTH in clear
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	m, _ := New(Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Username: user, Password: password, From: "steward@example.com",
		Timeout: 2 * time.Second, Retry: notify.RetryPolicy{Attempts: 1}})
	_, err = m.Notify(context.Background(), notify.Recipient{Kind: notify.KindEmail, Address: "bob@example.com"}, notify.Notice{ApprovalID: "a", Playbook: "p", Title: "t"})
	if err == nil || len(s.received()) != 0 {
		t.Fatalf("sent without TLS: err %v, received %d", err, len(s.received()))
	}
	if strings.Contains(err.Error(), password) {
		t.Fatal("password in error")
	}
}
