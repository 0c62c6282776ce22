package change

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/stewardhq/steward/internal/store"
)

// Target is what a rollback undoes: one change, or every applied change
// of an execution.
type Target struct {
	ChangeID     string
	ExecutionARN string
}

func (t Target) String() string {
	if t.ChangeID != "" {
		return "change " + t.ChangeID
	}
	return "execution " + t.ExecutionARN
}

var (
	changeIDRe = regexp.MustCompile(`^ch-[0-9a-z]{1,64}$`)
	execARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:states:[a-z0-9-]*:[0-9]*:execution:[A-Za-z0-9_.-]{1,80}:[A-Za-z0-9_.:-]{1,128}$`)
)

// ParseTarget reads a rollback target: a change id (ch-...) or an
// execution ARN (arn:aws:states:REGION:ACCOUNT:execution:PLAYBOOK:NAME).
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	switch {
	case changeIDRe.MatchString(s):
		return Target{ChangeID: s}, nil
	case execARNRe.MatchString(s):
		return Target{ExecutionARN: s}, nil
	}
	shown := s
	if len(shown) > 100 {
		shown = shown[:100] + "..."
	}
	return Target{}, fmt.Errorf("%w %q: want a change id (ch-...) or an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:PLAYBOOK:NAME)", ErrBadTarget, shown)
}

// RollbackResult says what a rollback undid.
type RollbackResult struct {
	Target string `json:"target"`
	// RolledBack lists the changes undone, in the order they were undone
	// (with DryRun, the order they would be).
	RolledBack []string `json:"rolledBack"`
	// Calls counts the undo calls made (or to make).
	Calls int `json:"calls"`
	// DryRun says nothing was undone: UndoCalls are what would be called.
	DryRun    bool       `json:"dryRun,omitempty"`
	UndoCalls []UndoCall `json:"undoCalls,omitempty"`
}

// Rollback undoes the applied changes of an execution (or one change),
// newest first, recording who rolled them back. It checks every change
// before it undoes any: an irreversible one fails with an
// *IrreversibleError, a drifted resource with a *DriftError, and nothing is
// undone. If an undo call fails midway, the changes undone before it stay
// marked rolled back and the error names the one that failed.
func (g *Gate) Rollback(ctx context.Context, to, by string) (*RollbackResult, error) {
	t, err := ParseTarget(to)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(by) == "" {
		return nil, errors.New("rollback: say who rolls back (by)")
	}
	g.rollbackMu.Lock()
	defer g.rollbackMu.Unlock()
	list, undos, err := g.prepareRollback(ctx, t)
	if err != nil {
		return nil, err
	}
	return g.applyRollback(ctx, t, to, by, list, undos)
}

// CheckRollback makes every check Rollback makes (applied changes, none
// irreversible, no drift) and returns what Rollback would undo, with its
// calls in the order it would make them, without undoing anything.
func (g *Gate) CheckRollback(ctx context.Context, to string) (*RollbackResult, error) {
	t, err := ParseTarget(to)
	if err != nil {
		return nil, err
	}
	list, undos, err := g.prepareRollback(ctx, t)
	if err != nil {
		return nil, err
	}
	res := &RollbackResult{Target: to, DryRun: true}
	for i := len(list) - 1; i >= 0; i-- {
		res.RolledBack = append(res.RolledBack, list[i].ID)
		res.Calls += len(undos[i].Calls)
		res.UndoCalls = append(res.UndoCalls, undos[i].Calls...)
	}
	return res, nil
}

// prepareRollback finds the changes of a target and checks them all.
func (g *Gate) prepareRollback(ctx context.Context, t Target) ([]*store.Change, []Undo, error) {
	var list []*store.Change
	if t.ChangeID != "" {
		c, err := g.cfg.Store.GetChange(ctx, t.ChangeID)
		if err != nil {
			return nil, nil, fmt.Errorf("rollback %s: %w", t, err)
		}
		if c.Status != store.StatusApplied {
			return nil, nil, fmt.Errorf("rollback %s: it is %s, not applied: %w", t, c.Status, ErrNothingToRollBack)
		}
		if c.ExecutionARN != "" && c.Resource != "" {
			later, err := g.cfg.Store.ListChanges(ctx, store.ChangeFilter{ExecutionARN: c.ExecutionARN, Status: store.StatusApplied, AfterSeq: c.Seq, Limit: 10000})
			if err != nil {
				return nil, nil, fmt.Errorf("rollback %s: %w", t, err)
			}
			for _, l := range later {
				if l.Service == c.Service && l.Resource == c.Resource {
					return nil, nil, fmt.Errorf("rollback %s: %w: %s (%s:%s) changed %s after it; roll that back first, or the whole execution %s",
						t, ErrLaterChange, l.ID, l.Service, l.Action, c.Resource, c.ExecutionARN)
				}
			}
		}
		list = []*store.Change{c}
	} else {
		all, err := g.cfg.Store.ListChanges(ctx, store.ChangeFilter{ExecutionARN: t.ExecutionARN, Status: store.StatusApplied, Limit: 10000})
		if err != nil {
			return nil, nil, fmt.Errorf("rollback %s: %w", t, err)
		}
		for _, c := range all {
			if c.Kind != store.KindNotice {
				list = append(list, c)
			}
		}
		if len(list) == 0 {
			return nil, nil, fmt.Errorf("rollback %s: %w (no applied change)", t, ErrNothingToRollBack)
		}
	}
	// Check everything first.
	var irr IrreversibleError
	for _, c := range list {
		if c.Irreversible != "" || len(c.Undo) == 0 {
			why := c.Irreversible
			if why == "" {
				why = "no undo recorded"
			}
			irr.Changes = append(irr.Changes, IrreversibleChange{ChangeID: c.ID, Service: c.Service, Action: c.Action, Resource: c.Resource, Why: why})
		}
	}
	if len(irr.Changes) > 0 {
		return nil, nil, fmt.Errorf("rollback %s: %w", t, &irr)
	}
	undos := make([]Undo, len(list))
	for i, c := range list {
		if err := json.Unmarshal(c.Undo, &undos[i]); err != nil {
			return nil, nil, fmt.Errorf("rollback %s: change %s has an unreadable undo: %w", t, c.ID, err)
		}
		for j := range undos[i].Calls {
			undos[i].Calls[j].Parameters = asObj(normalize(undos[i].Calls[j].Parameters))
		}
		// A later change of this rollback on the same resource is steward's
		// own: this change is checked against what that one found before
		// it (drift in between), and that one against AWS now.
		if j := laterOnSameResource(list, i); j >= 0 {
			if err := driftBetween(c, list[j]); err != nil {
				return nil, nil, fmt.Errorf("rollback %s: %w", t, err)
			}
			continue
		}
		if err := g.checkDrift(ctx, c); err != nil {
			return nil, nil, fmt.Errorf("rollback %s: %w", t, err)
		}
	}
	return list, undos, nil
}

// applyRollback undoes checked changes, newest first.
func (g *Gate) applyRollback(ctx context.Context, t Target, to, by string, list []*store.Change, undos []Undo) (*RollbackResult, error) {
	res := &RollbackResult{Target: to}
	remap := map[string]string{}
	for i := len(list) - 1; i >= 0; i-- {
		c := list[i]
		tg := target{Account: c.Account, Region: c.Region, Credentials: credentialsOf(c)}
		for _, u := range undos[i].Calls {
			if err := g.undoCall(ctx, tg, u, remap); err != nil {
				return res, fmt.Errorf("rollback %s: undo of %s (%s:%s on %s) failed at %s:%s, after %d change(s) were rolled back: %w",
					t, c.ID, c.Service, c.Action, c.Resource, u.Service, u.Action, len(res.RolledBack), err)
			}
			res.Calls++
		}
		if err := g.cfg.Store.MarkRolledBack(ctx, []string{c.ID}, by, g.now()); err != nil {
			return res, fmt.Errorf("rollback %s: %s was undone but could not be marked: %w", t, c.ID, err)
		}
		res.RolledBack = append(res.RolledBack, c.ID)
	}
	return res, nil
}

// credentialsOf is the Credentials the change's call had, if any (kept in
// its undo).
func credentialsOf(c *store.Change) any {
	var u Undo
	if json.Unmarshal(c.Undo, &u) != nil {
		return nil
	}
	return u.Credentials
}

// checkDrift reads the resource again and compares it with the change's
// After.
func (g *Gate) checkDrift(ctx context.Context, c *store.Change) error {
	rc := recipeFor(c.Service, c.Action)
	if rc.read == nil || len(c.After) == 0 || c.Kind != store.KindCall {
		return nil
	}
	tg := target{Account: c.Account, Region: c.Region, Credentials: credentialsOf(c)}
	now, err := rc.read(ctx, g.reader(tg), asObj(decode(c.Parameters)), decode(c.Result))
	if err != nil {
		return fmt.Errorf("read %s to check it did not drift: %w", c.Resource, err)
	}
	var diffs []Diff
	diff("", decode(c.After), redact(normalize(now)), &diffs)
	if len(diffs) == 0 {
		return nil
	}
	return &DriftError{ChangeID: c.ID, Service: c.Service, Action: c.Action, Resource: c.Resource, Diffs: diffs}
}

// undoCall makes one undo call. remap carries ids that earlier undo calls
// of the same rollback re-created under new names (an IAM policy version
// deleted and created again is numbered anew): a later call naming the old
// id gets the new one.
func (g *Gate) undoCall(ctx context.Context, t target, u UndoCall, remap map[string]string) error {
	params := asObj(normalize(u.Parameters))
	if u.ETagFrom != nil {
		out, err := g.call(ctx, t, u.ETagFrom.Service, u.ETagFrom.Action, asObj(normalize(u.ETagFrom.Parameters)))
		if err != nil {
			return err
		}
		params["IfMatch"] = str(out, "ETag")
	}
	if v := str(params, "VersionId"); v != "" {
		if n, ok := remap[str(params, "PolicyArn")+"#"+v]; ok {
			params["VersionId"] = n
		}
	}
	out, err := g.call(ctx, t, u.Service, u.Action, params)
	if err != nil {
		return err
	}
	if u.Restores != "" && u.RestoredAt != "" {
		if n := str(out, u.RestoredAt); n != "" {
			remap[u.Restores] = n
		}
	}
	return nil
}

// laterOnSameResource returns the index of the next change after i on the
// same resource, or -1.
func laterOnSameResource(list []*store.Change, i int) int {
	c := list[i]
	if c.Resource == "" {
		return -1
	}
	for j := i + 1; j < len(list); j++ {
		if list[j].Service == c.Service && list[j].Resource == c.Resource {
			return j
		}
	}
	return -1
}

// driftBetween compares what change c left (its After) with what the next
// change on the same resource found (its Before), field by field where
// both reads have the field: a difference means someone changed the
// resource between the two.
func driftBetween(c, next *store.Change) error {
	after, before := asObj(decode(c.After)), asObj(decode(next.Before))
	var diffs []Diff
	for k, v := range after {
		if w, ok := before[k]; ok {
			diff(k, v, w, &diffs)
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sortDiffs(diffs)
	for i := range diffs {
		diffs[i].Path += " (before " + next.ID + ")"
	}
	return &DriftError{ChangeID: c.ID, Service: c.Service, Action: c.Action, Resource: c.Resource, Diffs: diffs}
}
