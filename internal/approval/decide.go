package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// DecideParams is one person's (or the deadline's) decision.
type DecideParams struct {
	ID      string         // the approval
	Choice  approve.Choice // approve, deny, exception-1m, exception-1y
	By      string         // who decided (required)
	Channel string         // slack, email, cli, api, deadline
	// Until ends an exception; zero means a month or a year from now as
	// the choice says. It may not go beyond the longest exception offered.
	Until  time.Time
	Reason string
}

// decisionName is what the execution sees for a choice.
func decisionName(c approve.Choice) string {
	switch c {
	case approve.ChoiceException1M, approve.ChoiceException1Y:
		return "exception"
	}
	return string(c)
}

func offered(a *store.Approval, c approve.Choice) bool {
	for _, x := range a.Choices {
		if approve.Choice(x) == c {
			return true
		}
	}
	return false
}

// Decide records a decision, grants the exception it asks for, hands it
// to the execution and updates the messages that asked. Exactly one
// decision wins: later ones fail with ErrNotPending (an
// *approve.EndedError). A decision for an execution that already ended is
// refused (ErrNotPending) and recorded as such; nothing is sent.
func (s *Service) Decide(ctx context.Context, p DecideParams) (*store.Approval, error) {
	if strings.TrimSpace(p.By) == "" {
		return nil, errors.New("approval: a decision needs who made it")
	}
	a, err := s.cfg.Store.GetApproval(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if a.Status != store.ApprovalPending {
		return a, &approve.EndedError{ExecutionARN: a.ExecutionARN, Status: "DECIDED"}
	}
	now := s.cfg.Clock.Now().UTC()
	until := p.Until
	switch p.Choice {
	case approve.ChoiceException1M, approve.ChoiceException1Y:
		if !offered(a, p.Choice) && p.Channel != "deadline" {
			return a, fmt.Errorf("approval %s: %w: %s (offered: %s)", a.ID, ErrChoiceNotOffered, p.Choice, strings.Join(a.Choices, ", "))
		}
		limit := now.AddDate(0, 1, 0)
		if p.Choice == approve.ChoiceException1Y {
			limit = now.AddDate(1, 0, 0)
		}
		if until.IsZero() {
			until = limit
		}
		if !until.After(now) || until.After(limit.Add(24*time.Hour)) {
			return a, fmt.Errorf("approval %s: %w: %s (must be after now and by %s)", a.ID, ErrBadUntil, until.Format(time.RFC3339), limit.Format("2006-01-02"))
		}
	case approve.ChoiceApprove, approve.ChoiceDeny:
		if !offered(a, p.Choice) && p.Channel != "deadline" {
			return a, fmt.Errorf("approval %s: %w: %s (offered: %s)", a.ID, ErrChoiceNotOffered, p.Choice, strings.Join(a.Choices, ", "))
		}
		until = time.Time{}
	default:
		return a, fmt.Errorf("approval %s: %w: %q", a.ID, ErrChoiceNotOffered, p.Choice)
	}
	d := store.ApprovalDecision{Decision: decisionName(p.Choice), DecidedBy: p.By, Channel: p.Channel, Reason: p.Reason, Until: until, DecidedAt: now}

	// A decision for an execution that ended is refused, and recorded.
	if e := s.eng(); e != nil {
		x, err := e.DescribeExecution(ctx, a.ExecutionARN)
		ended := ""
		switch {
		case err == nil && x.Status != "RUNNING":
			ended = x.Status
		case errors.Is(err, engine.ErrExecutionDoesNotExist):
			ended = "DELETED"
		case err != nil:
			return a, fmt.Errorf("approval %s: look up %s: %w", a.ID, a.ExecutionARN, err)
		}
		if ended != "" {
			d.Status = store.ApprovalCancelled
			d.Reason = strings.TrimSpace(fmt.Sprintf("refused: the execution already ended (%s). %s", ended, p.Reason))
			if _, err := s.cfg.Store.DecideApproval(ctx, a.ID, d); err == nil {
				_ = s.cfg.Store.MarkDelivered(ctx, a.ID, now, "not delivered: the execution already ended ("+ended+")")
			}
			s.cfg.Logf("approval %s: refused %s by %s via %s: execution %s already ended (%s)", a.ID, p.Choice, p.By, p.Channel, a.ExecutionARN, ended)
			return a, &approve.EndedError{ExecutionARN: a.ExecutionARN, Status: ended}
		}
	}

	decided, err := s.cfg.Store.DecideApproval(ctx, a.ID, d)
	if errors.Is(err, store.ErrConflict) {
		return a, &approve.EndedError{ExecutionARN: a.ExecutionARN, Status: "DECIDED"}
	}
	if err != nil {
		return a, err
	}
	s.cfg.Logf("approval %s: %s by %s via %s", a.ID, d.Decision, p.By, p.Channel)
	if err := s.handOver(ctx, a.ID); err != nil {
		// The decision stands; the loop grants and hands it over later.
		s.cfg.Logf("approval %s: %v (will retry)", a.ID, err)
	}
	s.updateMessages(ctx, decided, p)
	if fresh, err := s.cfg.Store.GetApproval(ctx, a.ID); err == nil {
		decided = fresh
	}
	if !decided.DeliveredAt.IsZero() && strings.HasPrefix(decided.LastError, "not delivered") {
		return decided, &approve.EndedError{ExecutionARN: a.ExecutionARN, Status: "TASK_ENDED"}
	}
	return decided, nil
}

// grant records the exception of a decided approval and mirrors it as a
// tag. It is idempotent: the exceptions it grants carry ids derived from
// the approval ("exc-<approval>", then "-2", ... when an earlier attempt
// was undone), and one still in force is not granted again.
func (s *Service) grant(ctx context.Context, a *store.Approval) error {
	if s.cfg.Exceptions == nil || a.Resource == "" {
		return nil
	}
	prefix := "exc-" + a.ID
	prior, err := s.cfg.Exceptions.ListExceptions(ctx, store.ExceptionFilter{Resource: a.Resource})
	if err != nil {
		return err
	}
	tries := 0
	for _, e := range prior {
		if e.ID == prefix || strings.HasPrefix(e.ID, prefix+"-") {
			if e.RevokedAt.IsZero() {
				return nil // granted before
			}
			tries++
		}
	}
	ex := store.Exception{
		ID: prefix, Resource: a.Resource, Account: a.Account, Region: a.Region, Playbook: a.Playbook,
		Until: a.Until, Reason: a.Reason, GrantedBy: a.DecidedBy, Channel: a.Channel, GrantedAt: a.DecidedAt,
	}
	if tries > 0 {
		ex.ID = fmt.Sprintf("%s-%d", prefix, tries+1)
	}
	if ex.Reason == "" {
		ex.Reason = "asked in approval " + a.ID
	}
	if s.cfg.GrantFunc != nil {
		_, err := s.cfg.GrantFunc(ctx, ex)
		return err
	}
	stored, err := s.cfg.Exceptions.GrantException(ctx, ex)
	if err != nil {
		return err
	}
	if s.cfg.TagFunc != nil {
		if err := s.cfg.TagFunc(ctx, stored); err != nil {
			return fmt.Errorf("tag %s: %w", a.Resource, err)
		}
	}
	return nil
}

// deliver hands a decided approval's decision to its execution.
func (s *Service) deliver(ctx context.Context, a *store.Approval) error {
	e := s.eng()
	if e == nil {
		return errors.New("no engine yet")
	}
	out := Output{Decision: a.Decision, By: a.DecidedBy, Channel: a.Channel, Reason: a.Reason, ApprovalID: a.ID}
	if !a.Until.IsZero() {
		out.Until = a.Until.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(out)
	now := s.cfg.Clock.Now().UTC()
	err := e.SendTaskSuccess(ctx, a.TaskToken, string(b))
	switch {
	case err == nil:
		return s.cfg.Store.MarkDelivered(ctx, a.ID, now, "")
	case errors.Is(err, engine.ErrTaskTimedOut), errors.Is(err, engine.ErrInvalidToken), errors.Is(err, engine.ErrExecutionDoesNotExist):
		msg := "not delivered: the task no longer waits (" + err.Error() + ")"
		s.cfg.Logf("approval %s: %s", a.ID, msg)
		return s.cfg.Store.MarkDelivered(ctx, a.ID, now, msg)
	}
	_ = s.cfg.Store.SetApprovalError(ctx, a.ID, "handing the decision over failed: "+err.Error())
	return err
}

// updateMessages rewrites the messages that asked (Slack) to show the
// decision and who made it.
func (s *Service) updateMessages(ctx context.Context, a *store.Approval, p DecideParams) {
	up, ok := s.cfg.Notifier.(notify.Updater)
	if !ok || len(a.Receipts) == 0 {
		return
	}
	var receipts []notify.Receipt
	if err := json.Unmarshal(a.Receipts, &receipts); err != nil {
		return
	}
	d := approve.Decision{ApprovalID: a.ID, ExecutionARN: a.ExecutionARN, Choice: p.Choice, By: approve.Person{Name: p.By}, Channel: p.Channel, At: a.DecidedAt}
	for _, r := range receipts {
		// A message may carry other approvals of the run, decided since it
		// was sent: show their decisions too.
		for i := range r.Notices {
			n := &r.Notices[i]
			if n.ApprovalID == a.ID || n.Decision != nil {
				continue
			}
			if o, err := s.cfg.Store.GetApproval(ctx, n.ApprovalID); err == nil && o.Status == store.ApprovalDecided {
				n.Decision = &approve.Decision{ApprovalID: o.ID, ExecutionARN: o.ExecutionARN, Choice: choiceOf(o),
					By: approve.Person{Name: o.DecidedBy}, Channel: o.Channel, At: o.DecidedAt}
			}
		}
		if err := up.Update(ctx, r, d); err != nil {
			s.cfg.Logf("approval %s: update message %s: %v", a.ID, r.ID, err)
			_ = s.cfg.Store.SetApprovalError(ctx, a.ID, "updating the message failed: "+err.Error())
		}
	}
}

// choiceOf is the choice a decided approval records.
func choiceOf(a *store.Approval) approve.Choice {
	if a.Decision != "exception" {
		return approve.Choice(a.Decision)
	}
	if a.Until.Sub(a.DecidedAt) > 32*24*time.Hour {
		return approve.ChoiceException1Y
	}
	return approve.ChoiceException1M
}

// DecideFunc adapts Decide for approval links and Slack buttons.
func (s *Service) DecideFunc() approve.DecideFunc {
	return func(ctx context.Context, d approve.Decision) error {
		by := d.By.String()
		if d.By.Email != "" && d.By.Name != "" {
			by = d.By.Name + " <" + d.By.Email + ">"
		}
		_, err := s.Decide(ctx, DecideParams{ID: d.ApprovalID, Choice: d.Choice, By: by, Channel: d.Channel})
		if errors.Is(err, store.ErrNotFound) {
			return &approve.EndedError{ExecutionARN: d.ExecutionARN, Status: "UNKNOWN"}
		}
		if errors.Is(err, ErrChoiceNotOffered) {
			return &approve.EndedError{ExecutionARN: d.ExecutionARN, Status: "CHOICE_NOT_OFFERED"}
		}
		return err
	}
}

// Describe says what a link decides, for its confirmation page.
func (s *Service) Describe(ctx context.Context, c approve.Claims) (approve.Details, error) {
	a, err := s.cfg.Store.GetApproval(ctx, c.ApprovalID)
	if err != nil {
		return approve.Details{}, err
	}
	var nt noticeText
	_ = json.Unmarshal(a.Notice, &nt)
	title := a.Playbook
	if nt.Subject != "" {
		title += ": " + nt.Subject
	}
	d := approve.Details{Title: title}
	if a.Resource != "" {
		d.Lines = append(d.Lines, "Resource: "+a.Resource)
	}
	if nt.Action != "" {
		d.Lines = append(d.Lines, "What happens: "+nt.Action)
	}
	d.Lines = append(d.Lines, fmt.Sprintf("Without an answer by %s, steward will: %s", a.Deadline.Format(time.RFC1123), approve.Choice(a.Default).Label()))
	if a.Status != store.ApprovalPending {
		d.Lines = append(d.Lines, fmt.Sprintf("Already %s: %s by %s", a.Status, a.Decision, a.DecidedBy))
	}
	return d, nil
}
