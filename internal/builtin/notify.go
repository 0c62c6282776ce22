package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// LogNotifier is the notifier when none is configured: each notice is one
// JSON line to Logf ("notice {...}").
type LogNotifier struct {
	Logf func(format string, args ...any)
	mu   sync.Mutex
}

var _ notify.Notifier = (*LogNotifier)(nil)

// Notify implements notify.Notifier.
func (l *LogNotifier) Notify(_ context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	if len(notices) == 0 {
		return notify.Receipt{}, notify.ErrNoNotices
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range notices {
		line, err := json.Marshal(struct {
			To     notify.Recipient `json:"to"`
			Notice notify.Notice    `json:"notice"`
		}{to, n})
		if err != nil {
			return notify.Receipt{}, fmt.Errorf("log notice: %w", err)
		}
		l.Logf("notice %s", line)
	}
	return notify.Receipt{To: to, ID: "log", At: time.Now().UTC(), Notices: notices}, nil
}

// logRecipient is where notices go that have no other recipient, so the
// log notifier still shows them.
var logRecipient = notify.Recipient{Kind: "log", Address: "steward"}

// Notify serves steward:notify: {"Subject", "Summary", "Resource": ARN,
// "Owner", "Action", "Severity"} → {"Notified": ["email:alice@..."],
// "Planned": bool}. The notice is routed to the owner (Deps.Router, with
// its account-class fallback) and sent through Deps.Notifier in the notify
// and enforce stages; in observe it is recorded as a planned notice
// (Deps.Plans) and nothing is sent.
func (t *Tasks) Notify(ctx context.Context, call *task.Call) (any, error) {
	const name = ResourceNotify
	in, err := inputOf(name, call)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, k := range []string{"Subject", "Summary", "Resource", "Owner", "Action", "Severity"} {
		v, err := in.str(name, k)
		if err != nil {
			return nil, err
		}
		fields[k] = v
	}
	if fields["Subject"] == "" && fields["Summary"] == "" {
		return nil, invalid("%s: give a Subject or a Summary", name)
	}
	playbook := stage.PlaybookOf(call.ExecutionID)
	res := notify.Resource{ARN: fields["Resource"], Owner: fields["Owner"]}
	target := Where{}
	if fields["Resource"] != "" {
		if w, err := Locate(fields["Resource"], call.ExecutionInput); err == nil {
			target = w
		} else {
			w.ARN = fields["Resource"]
			target = w
		}
		res.Account, res.Region, res.ID = target.Account, target.Region, target.Name
	} else {
		tg := targetOf(call)
		target.Account, target.Region = tg.Account, tg.Region
		res.Account, res.Region = tg.Account, tg.Region
	}
	class := t.d.ClassOf(target.Account)
	n := notify.Notice{
		ExecutionARN: call.ExecutionID,
		Playbook:     playbook,
		Title:        firstNonEmpty(fields["Subject"], fields["Summary"]),
		Detail:       fields["Summary"],
		Resources:    []notify.Resource{res},
		Owner:        notify.Owner{Raw: fields["Owner"]},
		AccountClass: class,
		Action:       fields["Action"],
	}
	if n.Detail == n.Title {
		n.Detail = ""
	}
	if s := fields["Severity"]; s != "" {
		n.Note = "Severity: " + s + "."
	}
	t.route(ctx, &n)
	to := make([]any, 0, len(n.To))
	for _, r := range n.To {
		to = append(to, r.String())
	}
	st := t.stageOf(call, target.Account)
	if st == stage.Observe {
		body, _ := json.Marshal(n)
		p := Plan{Kind: store.KindNotice, Service: "steward", Action: "notify", Resource: fields["Resource"], Stage: st,
			Parameters: body, Reason: "observe stage: the notice is recorded, not sent"}
		out := map[string]any{"Notified": []any{}, "Planned": true, "To": to}
		if t.d.Plans == nil {
			t.d.Logf("planned notice (observe stage) for %s: %s", orNone(fields["Resource"]), body)
			return out, nil
		}
		id, err := t.d.Plans.RecordPlan(ctx, call, p)
		if err != nil {
			return nil, taskError(name, fmt.Errorf("record planned notice for %s: %w", orNone(fields["Resource"]), err))
		}
		out["ChangeId"] = id
		return out, nil
	}
	recipients := n.To
	if len(recipients) == 0 {
		recipients = []notify.Recipient{logRecipient}
		if _, isLog := t.d.Notifier.(*LogNotifier); !isLog {
			// Nowhere to send: keep the notice in the log rather than lose it.
			l := &LogNotifier{Logf: t.d.Logf}
			if _, err := l.Notify(ctx, logRecipient, n); err != nil {
				return nil, taskError(name, err)
			}
			return map[string]any{"Notified": []any{}, "Planned": false, "Unrouted": true}, nil
		}
	}
	sent := []any{}
	var errs []string
	for _, r := range recipients {
		if _, err := t.d.Notifier.Notify(ctx, r, n); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", r, err))
			continue
		}
		sent = append(sent, r.String())
	}
	if len(sent) == 0 && len(errs) > 0 {
		return nil, taskError(name, fmt.Errorf("notice for %s reached no one: %s", orNone(fields["Resource"]), strings.Join(errs, "; ")))
	}
	out := map[string]any{"Notified": sent, "Planned": false}
	if len(errs) > 0 {
		sort.Strings(errs)
		out["Failed"] = strings.Join(errs, "; ")
	}
	return out, nil
}

// route sets n.To: the router's answer, else the owner when it is an
// e-mail address.
func (t *Tasks) route(ctx context.Context, n *notify.Notice) {
	switch {
	case t.d.Router != nil:
		t.d.Router.Address(ctx, n)
	case looksLikeEmail(n.Owner.Raw):
		email := strings.ToLower(n.Owner.Raw)
		n.Owner.Email = email
		n.To = []notify.Recipient{{Kind: notify.KindEmail, Address: email}}
	}
	for _, r := range t.d.Extra {
		if !slices.Contains(n.To, r) {
			n.To = append(n.To, r)
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(no resource)"
	}
	return s
}

// Alert tells the fallback recipients (those of account class "",
// i.e. the default) and the extra channels about something wrong with
// steward itself, such as a playbook paused by its blast radius. It always
// writes the log too, so an alert is never lost for want of a channel.
func (t *Tasks) Alert(ctx context.Context, playbook, title, detail string) error {
	n := notify.Notice{Playbook: playbook, Title: title, Detail: detail,
		Action: "steward paused the playbook; nothing more changes until someone resumes it",
		Note:   "Alert from steward: no resource owner is asked to act."}
	t.route(ctx, &n)
	l := &LogNotifier{Logf: t.d.Logf}
	if _, err := l.Notify(ctx, logRecipient, n); err != nil {
		return err
	}
	var errs []error
	for _, r := range n.To {
		if _, err := t.d.Notifier.Notify(ctx, r, n); err != nil {
			errs = append(errs, fmt.Errorf("alert to %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}
