// Package email sends notices by SMTP (STARTTLS and AUTH, with go-mail):
// one multipart message per recipient, plain text and HTML, with each
// choice as a link to its approval confirmation page.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"net/textproto"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// Config configures a Mailer. Password is never logged or put in errors.
type Config struct {
	Host     string
	Port     int    // 0 means 587
	Username string // empty: no AUTH
	Password string
	From     string // e.g. "steward <steward@example.com>"
	// TLSConfig is optional (tests pass one with their CA in RootCAs);
	// ServerName defaults to Host.
	TLSConfig *tls.Config
	// ImplicitTLS connects with TLS from the first byte (port 465) instead
	// of STARTTLS. Either way, TLS is mandatory: steward never sends
	// approval links or a password in clear.
	ImplicitTLS bool
	Timeout     time.Duration // per connection; 0 means 30s
	HELO        string        // optional
	Retry       notify.RetryPolicy
}

// Mailer is the e-mail notify.Notifier.
type Mailer struct{ cfg Config }

var _ notify.Notifier = (*Mailer)(nil)

// New checks cfg and returns a Mailer.
func New(cfg Config) (*Mailer, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, errors.New("email: Host and From are required")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	m := mail.NewMsg()
	if err := m.From(cfg.From); err != nil {
		return nil, fmt.Errorf("email: From %q: %w", cfg.From, err)
	}
	return &Mailer{cfg: cfg}, nil
}

func (m *Mailer) client() (*mail.Client, error) {
	tc := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
	if m.cfg.TLSConfig != nil {
		tc = m.cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = m.cfg.Host
		}
	}
	opts := []mail.Option{
		mail.WithPort(m.cfg.Port),
		mail.WithTimeout(m.cfg.Timeout),
		mail.WithTLSConfig(tc),
	}
	if m.cfg.ImplicitTLS {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if m.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(m.cfg.HELO))
	}
	if m.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	c, err := mail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: client: %w", err)
	}
	return c, nil
}

// Notify sends one message carrying notices to to.Address. Transient
// failures (server down, 4xx replies) are retried within cfg.Retry and
// then returned as a transient *notify.DeliveryError.
func (m *Mailer) Notify(ctx context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	if to.Kind != notify.KindEmail || to.Address == "" {
		return notify.Receipt{}, fmt.Errorf("email: cannot send to %s", to)
	}
	if len(notices) == 0 {
		return notify.Receipt{}, notify.ErrNoNotices
	}
	msg, err := m.Build(to.Address, notices)
	if err != nil {
		return notify.Receipt{}, err
	}
	err = notify.Retry(ctx, m.cfg.Retry, func(ctx context.Context) error {
		c, err := m.client()
		if err != nil {
			return err
		}
		if err := c.DialAndSendWithContext(ctx, msg); err != nil {
			return classify(m.scrub(err))
		}
		return nil
	})
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("email to %s: %w", to.Address, err)
	}
	return notify.Receipt{To: to, ID: msg.GetMessageID(), At: time.Now().UTC(), Notices: notices}, nil
}

// scrub removes the password from an error text, should a library ever
// echo it.
func (m *Mailer) scrub(err error) error {
	if m.cfg.Password != "" && strings.Contains(err.Error(), m.cfg.Password) {
		return errors.New(strings.ReplaceAll(err.Error(), m.cfg.Password, "[password]"))
	}
	return err
}

// classify marks what is worth retrying: 4xx replies, connection
// failures and timeouts. Permanent: 5xx replies (bad address, AUTH
// refused) and certificate errors.
func classify(err error) error {
	var se *mail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return notify.Transient(err, 0)
		}
		if se.ErrorCode() >= 500 {
			return err
		}
	}
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &he) {
		return err
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		if pe.Code >= 500 {
			return err // e.g. 535 authentication refused, 550 no such mailbox
		}
		return notify.Transient(err, 0)
	}
	if errors.Is(err, mail.ErrNoSupportedAuthDiscovered) {
		return err
	}
	// Connection refused, timeouts, the server hanging up: the server may
	// be back later.
	return notify.Transient(err, 0)
}

// Build makes the message for notices: Subject, From, To, a plain-text
// part and an HTML alternative.
func (m *Mailer) Build(to string, notices []notify.Notice) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("email: From: %w", err)
	}
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("email: To %q: %w", to, err)
	}
	msg.Subject(notify.Subject(notices))
	msg.SetMessageID()
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if len(notices) > 0 {
		msg.SetGenHeader("X-Steward-Playbook", notify.Clean(notices[0].Playbook, 100))
	}
	html, err := RenderHTML(notices)
	if err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, notify.RenderText(notices))
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

var htmlTmpl = template.Must(template.New("mail").Funcs(template.FuncMap{
	"clean":    func(s string) string { return notify.Clean(s, 0) },
	"resource": notify.ResourceLine,
	"whatwhen": notify.WhatWhen,
	"label":    func(c approve.Choice) string { return c.Label() },
	"person":   func(p approve.Person) string { return notify.Clean(p.String(), 200) },
	"safeurl":  safeURL,
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,sans-serif;max-width:680px">
{{if gt (len .Notices) 1}}<p>steward found {{len .Notices}} things that need a decision.</p>{{end}}
{{range .Notices}}
<div style="border:1px solid #ccc;padding:12px;margin:12px 0">
{{if .Reminder}}<p style="color:#b35900"><strong>Reminder {{.Reminder}}:</strong> this still needs a decision.</p>{{end}}
{{with .Note}}<p style="background:#fff3cd;padding:6px">{{clean .}}</p>{{end}}
<h2 style="margin-top:0">{{clean .Title}}</h2>
{{with .Detail}}<p>{{clean .}}</p>{{end}}
<p><strong>Playbook:</strong> {{clean .Playbook}}{{with .AccountClass}} &middot; <strong>Account class:</strong> {{clean .}}{{end}}<br>
{{with .Owner.Email}}<strong>Owner:</strong> {{.}}{{else}}{{with .Owner.Raw}}<strong>Owner:</strong> {{clean .}}{{end}}{{end}}</p>
<p><strong>Resources:</strong></p>
<ul>{{range .Resources}}<li>{{resource .}}</li>{{end}}</ul>
<p><strong>What will happen:</strong> {{whatwhen .}}</p>
{{if .Decision}}<p><strong>Decided:</strong> {{label .Decision.Choice}} by {{person .Decision.By}} via {{.Decision.Channel}}.</p>
{{else}}<p>{{range .Choices}}{{if .URL}}<a href="{{safeurl .URL}}" style="display:inline-block;padding:8px 14px;margin:4px;border-radius:4px;text-decoration:none;color:#fff;background:{{if eq .Choice "approve"}}#2e7d32{{else if eq .Choice "deny"}}#c62828{{else}}#1565c0{{end}}">{{.Text}}</a> {{end}}{{end}}</p>
<p style="font-size:12px;color:#666">Each button opens a confirmation page; nothing happens until you confirm there.</p>{{end}}
<p style="font-size:12px;color:#666">Execution {{clean .ExecutionARN}}</p>
</div>
{{end}}
</body></html>
`))

// safeURL lets only http(s) links through (html/template already refuses
// javascript: URLs; this also keeps mail clients from odd schemes).
func safeURL(s string) string {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return s
	}
	return "#"
}

// RenderHTML renders notices as the HTML part.
func RenderHTML(notices []notify.Notice) (string, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, map[string]any{"Subject": notify.Subject(notices), "Notices": notices}); err != nil {
		return "", fmt.Errorf("email: render: %w", err)
	}
	return b.String(), nil
}
