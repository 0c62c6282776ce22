package approve

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Details is what the confirmation page says about an approval beyond its
// choice: the finding, the resources, what will happen.
type Details struct {
	Title string   // e.g. "ebs-unused: volume unattached for 45 days"
	Lines []string // e.g. one per resource, and "steward will delete it on ..."
}

// DescribeFunc looks up what an approval is about, for the confirmation
// page. It must not change anything.
type DescribeFunc func(ctx context.Context, c Claims) (Details, error)

// HandlerConfig configures Handler.
type HandlerConfig struct {
	Signer *Signer    // required
	Used   UsedStore  // required; the store's durable one in production
	Decide DecideFunc // required
	// Describe is optional: without it the page shows the choice and ids.
	Describe DescribeFunc
	// Logger is optional; tokens are never logged.
	Logger *slog.Logger
	// Channel names where the links were sent, for Decision.Channel;
	// empty means "email".
	Channel string
}

// Handler serves GET and POST /approve/{token} (it may be mounted under any
// prefix; the token is the last path segment).
//
// GET shows a confirmation page and changes nothing: mail scanners and link
// previews follow links. The page's form POSTs back to the same URL with a
// hidden field bound to the token (an HMAC of it) and asks who decides.
// POST verifies the link, marks it used and calls Decide. Answers: 200 done,
// 400 form incomplete, 403 tampered (or a cross-site POST), 404 unknown,
// 409 the execution already ended, 410 expired or already used, 503 the
// decision could not be handed over now (the link stays usable when the
// UsedStore is a UsedReleaser).
type Handler struct {
	cfg HandlerConfig
	log *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler; it fails when a required field is missing.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Signer == nil || cfg.Used == nil || cfg.Decide == nil {
		return nil, errors.New("approve: HandlerConfig needs Signer, Used and Decide")
	}
	if cfg.Channel == "" {
		cfg.Channel = "email"
	}
	h := &Handler{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// maxForm bounds the POST body.
const maxForm = 16 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Content-Type", "text/html; charset=utf-8")

	token := r.URL.Path
	if i := strings.LastIndexByte(token, '/'); i >= 0 {
		token = token[i+1:]
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r, token)
	case http.MethodPost:
		h.post(w, r, token)
	default:
		hd.Set("Allow", "GET, HEAD, POST")
		h.page(w, http.StatusMethodNotAllowed, pageData{Title: "Method not allowed", Message: "Open the link from your message."})
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, token string) {
	c, err := h.cfg.Signer.Verify(token)
	if err != nil {
		h.linkError(w, err)
		return
	}
	d := pageData{Title: "Confirm: " + c.Choice.Label(), Claims: c, Form: true, CSRF: h.csrf(token), Expires: c.Expires.Format(time.RFC1123)}
	d.Message = "Nothing has been decided yet. Press the button to confirm."
	if h.cfg.Describe != nil {
		det, err := h.cfg.Describe(r.Context(), c)
		if err != nil {
			h.log.WarnContext(r.Context(), "approve: describe failed", "approval", c.ApprovalID, "err", err)
		} else {
			d.Details = det
		}
	}
	h.page(w, http.StatusOK, d)
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, token string) {
	// A browser says when a POST comes from another site; the form is ours.
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		h.page(w, http.StatusForbidden, pageData{Title: "Refused", Message: "This form must be sent from steward's own page."})
		return
	}
	c, err := h.cfg.Signer.Verify(token)
	if err != nil {
		h.linkError(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.page(w, http.StatusBadRequest, pageData{Title: "Bad request", Message: "The form could not be read."})
		return
	}
	if !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(h.csrf(token))) {
		h.page(w, http.StatusForbidden, pageData{Title: "Refused", Message: "This form must be sent from steward's own page. Open the link again."})
		return
	}
	by := strings.TrimSpace(r.PostForm.Get("by"))
	if by == "" || len(by) > 200 {
		d := pageData{Title: "Confirm: " + c.Choice.Label(), Claims: c, Form: true, CSRF: h.csrf(token), Expires: c.Expires.Format(time.RFC1123),
			Message: "Please enter your name or e-mail address."}
		h.page(w, http.StatusBadRequest, d)
		return
	}
	person := Person{Name: by}
	if strings.Contains(by, "@") {
		person = Person{Email: by}
	}
	c, err = h.cfg.Signer.Redeem(r.Context(), h.cfg.Used, token)
	if err != nil {
		h.linkError(w, err)
		return
	}
	d := Decision{ApprovalID: c.ApprovalID, ExecutionARN: c.ExecutionARN, Choice: c.Choice, By: person, Channel: h.cfg.Channel, At: h.cfg.Signer.Now().UTC()}
	if err := h.cfg.Decide(r.Context(), d); err != nil {
		if errors.Is(err, ErrEnded) {
			h.page(w, http.StatusConflict, pageData{Title: "Already decided", Claims: c,
				Message: "This approval is no longer waiting: the execution already ended or someone decided first. Nothing was changed."})
			return
		}
		h.log.ErrorContext(r.Context(), "approve: decision not handed over", "approval", c.ApprovalID, "err", err)
		msg := "Your decision could not be recorded right now. Nothing was changed."
		if rel, ok := h.cfg.Used.(UsedReleaser); ok {
			if rerr := rel.ReleaseUsed(r.Context(), c.Nonce); rerr == nil {
				msg += " Please try the same link again in a few minutes."
			}
		}
		h.page(w, http.StatusServiceUnavailable, pageData{Title: "Try again later", Claims: c, Message: msg})
		return
	}
	h.log.InfoContext(r.Context(), "approve: decided", "approval", c.ApprovalID, "choice", c.Choice, "by", person.String())
	h.page(w, http.StatusOK, pageData{Title: "Done: " + c.Choice.Label(), Claims: c,
		Message: "Thank you, " + person.String() + ". Your decision was recorded; steward continues."})
}

// csrf is the hidden form value bound to token.
func (h *Handler) csrf(token string) string {
	return base64.RawURLEncoding.EncodeToString(mac(h.cfg.Signer.keys[h.cfg.Signer.cur], "csrf:"+token))
}

func (h *Handler) linkError(w http.ResponseWriter, err error) {
	var le *LinkError
	errors.As(err, &le)
	switch {
	case errors.Is(err, ErrTampered):
		h.page(w, http.StatusForbidden, pageData{Title: "Invalid link", Message: "This link has been altered and cannot be used."})
	case errors.Is(err, ErrExpired):
		h.page(w, http.StatusGone, pageData{Title: "Link expired", Claims: le.Claims, Message: "This link expired at its deadline; steward has applied the default."})
	case errors.Is(err, ErrUsed):
		h.page(w, http.StatusGone, pageData{Title: "Link already used", Claims: le.Claims, Message: "This link was already used; a link works once."})
	case errors.Is(err, ErrUnknown):
		h.page(w, http.StatusNotFound, pageData{Title: "Unknown link", Message: "This is not an approval link steward knows."})
	default:
		h.log.Error("approve: link check failed", "err", err)
		h.page(w, http.StatusServiceUnavailable, pageData{Title: "Try again later", Message: "The link could not be checked right now. Nothing was changed."})
	}
}

type pageData struct {
	Title   string
	Message string
	Claims  Claims
	Details Details
	Form    bool
	CSRF    string
	Expires string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>{{.Title}} - steward</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}button{font-size:1.1em;padding:.4em 1em}dt{font-weight:bold}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{with .Details.Title}}<h2>{{.}}</h2>{{end}}
{{with .Details.Lines}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Claims.ApprovalID}}<dl>
<dt>Approval</dt><dd>{{.Claims.ApprovalID}}</dd>
{{with .Claims.ExecutionARN}}<dt>Execution</dt><dd>{{.}}</dd>{{end}}
<dt>Choice</dt><dd>{{.Claims.Choice.Label}}</dd>
{{with .Expires}}<dt>Deadline</dt><dd>{{.}}</dd>{{end}}
</dl>{{end}}
{{if .Form}}<form method="post">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<p><label>Your name or e-mail address (recorded with the decision):<br>
<input type="text" name="by" required maxlength="200" autocomplete="email"></label></p>
<p><button type="submit">Confirm: {{.Claims.Choice.Label}}</button></p>
</form>{{end}}
</body></html>
`))

func (h *Handler) page(w http.ResponseWriter, status int, d pageData) {
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, d); err != nil {
		h.log.Error("approve: render page", "err", err)
	}
}
