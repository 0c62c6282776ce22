package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// ChoiceForUntil is the exception choice an end date asks for: a month
// when it is within a month (and a day) of now, else a year.
func ChoiceForUntil(now, until time.Time) approve.Choice {
	if until.After(now.AddDate(0, 1, 1)) {
		return approve.ChoiceException1Y
	}
	return approve.ChoiceException1M
}

// Run ticks every PollInterval (and when a new approval was recorded)
// until ctx ends.
func (s *Service) Run(ctx context.Context) {
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logf("approvals: %v", err)
		}
		wait := s.cfg.PollInterval
		if s.cfg.BatchWindow > 0 && s.cfg.BatchWindow < wait {
			wait = s.cfg.BatchWindow
		}
		t := s.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case <-s.kick:
			t.Stop()
			if s.cfg.BatchWindow > 0 {
				// let the rest of the run's approvals arrive
				t2 := s.cfg.Clock.NewTimer(s.cfg.BatchWindow)
				select {
				case <-ctx.Done():
					t2.Stop()
					return
				case <-t2.C():
				}
			}
		}
	}
}

// Tick does what is due now: sends notices not yet sent, hands over
// decisions not yet delivered, sends reminders and decides at deadlines.
func (s *Service) Tick(ctx context.Context) error {
	var errs []error
	errs = append(errs, s.sendUnsent(ctx))
	errs = append(errs, s.redeliver(ctx))
	errs = append(errs, s.due(ctx))
	return errors.Join(errs...)
}

func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempts && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	if d > s.cfg.RetryMax {
		d = s.cfg.RetryMax
	}
	return d
}

// notice renders an approval as a notice to rt's recipients.
func (s *Service) notice(a *store.Approval, rt notify.Route, reminder int) notify.Notice {
	var nt noticeText
	_ = json.Unmarshal(a.Notice, &nt)
	n := notify.Notice{
		ApprovalID: a.ID, ExecutionARN: a.ExecutionARN, Playbook: a.Playbook, Title: nt.Subject, Detail: nt.Summary,
		Resources: []notify.Resource{resourceOf(a.Resource, a.Account, a.Region, a.Owner)},
		Owner:     rt.Owner, AccountClass: nt.AccountClass, Action: nt.Action, Deadline: a.Deadline,
		DefaultAction: approve.Choice(a.Default), Reminder: reminder, Note: rt.Note, To: rt.To,
	}
	if n.Title == "" {
		n.Title = a.Playbook + ": " + n.Resources[0].Name()
	}
	for _, c := range a.Choices {
		o := notify.Option{Choice: approve.Choice(c)}
		if s.cfg.Signer != nil {
			o.URL = s.cfg.Signer.Link(approve.Claims{ApprovalID: a.ID, ExecutionARN: a.ExecutionARN, Choice: o.Choice, Expires: a.Deadline})
		}
		n.Choices = append(n.Choices, o)
	}
	return n
}

func accountClass(a *store.Approval) string {
	var nt noticeText
	_ = json.Unmarshal(a.Notice, &nt)
	return nt.AccountClass
}

// sendUnsent sends the notices of pending approvals not yet sent, one
// message per recipient for each (run, owner) group whose oldest member
// waited BatchWindow.
func (s *Service) sendUnsent(ctx context.Context) error {
	now := s.cfg.Clock.Now().UTC()
	// Members of a group created after its first are due later; list
	// them too and send each group once its first member is due.
	unsent, err := s.cfg.Store.UnsentApprovals(ctx, now.Add(s.cfg.BatchWindow), 1000)
	if err != nil {
		return err
	}
	type key struct{ batch, owner, class string }
	groups := map[key][]*store.Approval{}
	var order []key
	for _, a := range unsent {
		k := key{a.Batch, a.Owner, accountClass(a)}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], a)
	}
	var errs []error
	for _, k := range order {
		g := groups[k]
		due := false
		for _, a := range g {
			due = due || !a.SendAfter.After(now)
		}
		if !due {
			continue
		}
		rt := s.cfg.Router.Route(ctx, k.owner, k.class)
		errs = append(errs, s.sendGroup(ctx, g, rt, now))
	}
	return errors.Join(errs...)
}

func (s *Service) sendGroup(ctx context.Context, g []*store.Approval, rt notify.Route, now time.Time) error {
	sort.Slice(g, func(i, j int) bool { return g[i].CreatedAt.Before(g[j].CreatedAt) })
	done := map[string]map[notify.Recipient]bool{}
	receipts := map[string][]notify.Receipt{}
	for _, a := range g {
		done[a.ID] = map[notify.Recipient]bool{}
		if len(a.Receipts) > 0 {
			var rs []notify.Receipt
			_ = json.Unmarshal(a.Receipts, &rs)
			receipts[a.ID] = rs
		}
		for _, r := range receipts[a.ID] {
			done[a.ID][r.To] = true
		}
	}
	failed := map[string]string{}
	for _, to := range rt.To {
		var notices []notify.Notice
		for _, a := range g {
			if !done[a.ID][to] {
				notices = append(notices, s.notice(a, rt, 0))
			}
		}
		if len(notices) == 0 {
			continue
		}
		rc, err := s.cfg.Notifier.Notify(ctx, to, notices...)
		if err != nil {
			s.cfg.Logf("approvals: sending %d notice(s) to %s failed: %v", len(notices), to, err)
			for _, n := range notices {
				failed[n.ApprovalID] = fmt.Sprintf("sending to %s failed: %v", to, err)
			}
			continue
		}
		if rc.To.Kind != notify.KindSlack {
			rc.Notices = nil // only Slack messages are updated later
		}
		for _, n := range notices {
			receipts[n.ApprovalID] = append(receipts[n.ApprovalID], rc)
		}
	}
	var errs []error
	for _, a := range g {
		b, _ := json.Marshal(receipts[a.ID])
		d := store.ApprovalDelivery{Receipts: b, SendAttempts: a.SendAttempts + 1}
		switch {
		case len(rt.To) == 0:
			d.NotifiedAt = now
			d.LastError = "no one to notify: " + rt.Note
			s.cfg.Logf("approval %s: no recipient for owner %q (no fallback configured); the deadline applies", a.ID, a.Owner)
		case failed[a.ID] != "":
			d.LastError = failed[a.ID]
			d.SendAfter = now.Add(s.backoff(d.SendAttempts))
		default:
			d.NotifiedAt = now
		}
		errs = append(errs, s.cfg.Store.SetDelivery(ctx, a.ID, d))
	}
	return errors.Join(errs...)
}

// redeliver hands over decisions whose delivery failed before.
func (s *Service) redeliver(ctx context.Context) error {
	list, err := s.cfg.Store.ListApprovals(ctx, store.ApprovalFilter{Undelivered: true, Limit: 500})
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range list {
		if err := s.handOver(ctx, a.ID); err != nil {
			errs = append(errs, fmt.Errorf("approval %s: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// handOver grants the exception a decided approval asks for, then hands
// the decision to its execution; it does nothing when that was done.
// Granting comes first: a playbook never skips a resource on an exception
// that was not recorded.
func (s *Service) handOver(ctx context.Context, id string) error {
	s.handover.Lock()
	defer s.handover.Unlock()
	a, err := s.cfg.Store.GetApproval(ctx, id)
	if err != nil || !a.DeliveredAt.IsZero() || a.Status != store.ApprovalDecided {
		return err
	}
	if a.Decision == "exception" {
		if err := s.grant(ctx, a); err != nil {
			_ = s.cfg.Store.SetApprovalError(ctx, a.ID, "granting the exception failed: "+err.Error())
			return fmt.Errorf("grant exception: %w", err)
		}
	}
	return s.deliver(ctx, a)
}

// due sends the reminders that are due and decides the approvals whose
// deadline passed.
func (s *Service) due(ctx context.Context) error {
	now := s.cfg.Clock.Now().UTC()
	list, err := s.cfg.Store.DueApprovals(ctx, now, 500)
	if err != nil {
		return err
	}
	var errs []error
	type key struct{ batch, owner, class string }
	groups := map[key][]*store.Approval{}
	var order []key
	for _, a := range list {
		if !now.Before(a.Deadline) {
			_, err := s.Decide(ctx, DecideParams{ID: a.ID, Choice: approve.Choice(a.Default), By: DeadlineBy, Channel: "deadline",
				Reason: "no answer by the deadline"})
			if err != nil && !errors.Is(err, ErrNotPending) {
				errs = append(errs, fmt.Errorf("approval %s: deadline: %w", a.ID, err))
			}
			continue
		}
		k := key{a.Batch, a.Owner, accountClass(a)}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], a)
	}
	// Reminders of one run for one owner go out together, as the notices.
	for _, k := range order {
		errs = append(errs, s.remind(ctx, groups[k], k.owner, k.class, now))
	}
	return errors.Join(errs...)
}

func (s *Service) remind(ctx context.Context, g []*store.Approval, owner, class string, now time.Time) error {
	rt := s.cfg.Router.Route(ctx, owner, class)
	notices := make([]notify.Notice, len(g))
	for i, a := range g {
		notices[i] = s.notice(a, rt, a.RemindersSent+1)
	}
	var failed error
	for _, to := range rt.To {
		if _, err := s.cfg.Notifier.Notify(ctx, to, notices...); err != nil {
			failed = fmt.Errorf("reminder to %s failed: %w", to, err)
			s.cfg.Logf("approvals: %v", failed)
		}
	}
	var errs []error
	for _, a := range g {
		if failed != nil {
			_ = s.cfg.Store.SetApprovalError(ctx, a.ID, failed.Error())
			errs = append(errs, s.cfg.Store.SetReminder(ctx, a.ID, a.RemindersSent, now.Add(s.backoff(1))))
			continue
		}
		s.cfg.Logf("approval %s: reminder %d sent", a.ID, a.RemindersSent+1)
		errs = append(errs, s.cfg.Store.SetReminder(ctx, a.ID, a.RemindersSent+1, s.nextReminder(a.CreatedAt, a.Deadline, maxTime(now, a.NextReminder))))
	}
	return errors.Join(errs...)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
