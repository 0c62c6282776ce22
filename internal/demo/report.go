package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// Stores is what the report reads: executions, change records, approvals
// and events with what the rules did with them. *storesqlite.DB has it all.
type Stores interface {
	// ListExecutions lists executions, newest first.
	ListExecutions(ctx context.Context, p store.ListExecutionsParams) ([]*store.Execution, string, error)
	// ListChanges lists change records in Seq order.
	ListChanges(ctx context.Context, f store.ChangeFilter) ([]*store.Change, error)
	// ListApprovals lists approvals.
	ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]*store.Approval, error)
	// ListEvents lists events.
	ListEvents(ctx context.Context, p store.ListEventsParams) ([]store.Event, string, error)
	// ListMatches lists what the rules did with one event.
	ListMatches(ctx context.Context, seq int64) ([]store.EventMatch, error)
}

// Report is what steward did in the demo, read from its store.
type Report struct {
	Executions []ExecutionLine
	Changes    []*store.Change
	Approvals  []*store.Approval
	Events     []EventLine
}

// ExecutionLine is one execution: a resource a playbook looked at.
type ExecutionLine struct {
	ARN             string
	Playbook, Name  string
	Account, Region string
	Resource        string
	// Status is the execution's (RUNNING, SUCCEEDED, FAILED, ...);
	// Outcome its output's "outcome" (fixed, exception, compliant, kept,
	// notified) when it succeeded; Error its error when it failed.
	Status, Outcome, Error string
	// Trigger is "schedule" (with the scan id) or "event".
	Trigger, Scan string
}

// EventLine is one event steward received and what its rules started.
type EventLine struct {
	ID, Source, DetailType, Account, Region string
	// Name is the API call of a CloudTrail event, or the detail type.
	Name string
	// Processed is false while the rules have not run on it yet.
	Processed bool
	Matches   []store.EventMatch
}

// Collect reads the report from the store.
func Collect(ctx context.Context, st Stores) (*Report, error) {
	r := &Report{}
	token := ""
	for {
		execs, next, err := st.ListExecutions(ctx, store.ListExecutionsParams{ListParams: store.ListParams{Limit: 1000, NextToken: token}})
		if err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		for _, e := range execs {
			r.Executions = append(r.Executions, executionLine(e))
		}
		if next == "" {
			break
		}
		token = next
	}
	sort.SliceStable(r.Executions, func(i, j int) bool {
		a, b := r.Executions[i], r.Executions[j]
		if a.Playbook != b.Playbook {
			return a.Playbook < b.Playbook
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Resource < b.Resource
	})
	var after int64
	for {
		chs, err := st.ListChanges(ctx, store.ChangeFilter{AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("list changes: %w", err)
		}
		r.Changes = append(r.Changes, chs...)
		if len(chs) < 1000 {
			break
		}
		after = chs[len(chs)-1].Seq
	}
	aps, err := st.ListApprovals(ctx, store.ApprovalFilter{Status: store.ApprovalPending, Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	r.Approvals = aps
	evs, _, err := st.ListEvents(ctx, store.ListEventsParams{ListParams: store.ListParams{Limit: 1000}, Ascending: true})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	for _, e := range evs {
		line := EventLine{ID: e.ID, Source: e.Source, DetailType: e.DetailType, Account: e.Account, Region: e.Region, Processed: e.Processed, Name: e.DetailType}
		var body struct {
			Detail struct {
				EventName string `json:"eventName"`
			} `json:"detail"`
		}
		if json.Unmarshal(e.Body, &body) == nil && body.Detail.EventName != "" {
			line.Name = body.Detail.EventName
		}
		if line.Matches, err = st.ListMatches(ctx, e.Seq); err != nil {
			return nil, fmt.Errorf("list matches of event %s: %w", e.ID, err)
		}
		r.Events = append(r.Events, line)
	}
	return r, nil
}

// executionLine reads what an execution was about from its input and
// output.
func executionLine(e *store.Execution) ExecutionLine {
	l := ExecutionLine{ARN: e.ARN, Playbook: lastPart(e.StateMachineARN), Name: e.Name, Status: e.Status, Error: e.Error}
	var in map[string]any
	_ = json.Unmarshal([]byte(e.Input), &in)
	l.Account, _ = in["account"].(string)
	l.Region, _ = in["region"].(string)
	l.Trigger, _ = in["trigger"].(string)
	l.Scan, _ = in["scan"].(string)
	if l.Trigger == "" {
		if _, ok := in["detail"]; ok {
			l.Trigger = "event"
		}
	}
	l.Resource = resourceOf(in)
	if e.Status == "SUCCEEDED" {
		var out map[string]any
		if json.Unmarshal([]byte(e.Output), &out) == nil {
			l.Outcome, _ = out["outcome"].(string)
		}
	}
	return l
}

// idKeys are the fields that name a resource in an API's item or an
// event's parameters, most specific first.
var idKeys = []string{"VolumeId", "AllocationId", "InstanceId", "GroupId", "InternetGatewayId", "DBInstanceIdentifier",
	"LoadBalancerArn", "HostedZoneId", "Id", "Name", "Arn",
	"groupId", "internetGatewayId", "bucketName", "instanceId", "loadBalancerName", "loadBalancerArn", "policyArn", "roleName", "userName"}

// resourceOf names the resource an execution input is about: a scanned
// item's id, a CloudTrail event's parameter or created instance, a
// finding's resource.
func resourceOf(in map[string]any) string {
	if res, ok := in["resource"].(map[string]any); ok {
		if s := firstID(res); s != "" {
			return s
		}
	}
	detail, _ := in["detail"].(map[string]any)
	if detail == nil {
		return ""
	}
	if rp, ok := detail["requestParameters"].(map[string]any); ok {
		if s := firstID(rp); s != "" {
			return s
		}
	}
	if re, ok := detail["responseElements"].(map[string]any); ok {
		if set, ok := re["instancesSet"].(map[string]any); ok {
			if items, ok := set["items"].([]any); ok && len(items) > 0 {
				if it, ok := items[0].(map[string]any); ok {
					if s, _ := it["instanceId"].(string); s != "" {
						return s
					}
				}
			}
		}
	}
	if fs, ok := detail["findings"].([]any); ok && len(fs) > 0 {
		if f, ok := fs[0].(map[string]any); ok {
			if rs, ok := f["Resources"].([]any); ok && len(rs) > 0 {
				if r, ok := rs[0].(map[string]any); ok {
					if s, _ := r["Id"].(string); s != "" {
						return lastPart(s)
					}
				}
			}
		}
	}
	return ""
}

func firstID(m map[string]any) string {
	for _, k := range idKeys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// lastPart is what follows an ARN's last ':' or '/'.
func lastPart(arn string) string {
	if i := strings.LastIndexAny(arn, ":/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Counts are the report's totals.
type Counts struct {
	Executions, Running, Succeeded, Failed int
	// Outcomes counts succeeded executions by outcome.
	Outcomes map[string]int
	// Applied, Planned, RolledBack and FailedChanges count change records
	// by status (notices included in Planned).
	Applied, Planned, RolledBack, FailedChanges int
	Approvals                                   int
	Events, EventsStarted                       int
}

// Counts adds up the report.
func (r *Report) Counts() Counts {
	c := Counts{Executions: len(r.Executions), Outcomes: map[string]int{}, Approvals: len(r.Approvals), Events: len(r.Events)}
	for _, e := range r.Executions {
		switch e.Status {
		case "RUNNING", "PENDING_REDRIVE":
			c.Running++
		case "SUCCEEDED":
			c.Succeeded++
			if e.Outcome != "" {
				c.Outcomes[e.Outcome]++
			}
		default:
			c.Failed++
		}
	}
	for _, ch := range r.Changes {
		switch ch.Status {
		case store.StatusApplied:
			c.Applied++
		case store.StatusPlanned:
			c.Planned++
		case store.StatusRolledBack:
			c.RolledBack++
		case store.StatusFailed:
			c.FailedChanges++
		}
	}
	for _, e := range r.Events {
		for _, m := range e.Matches {
			if m.ExecutionARN != "" {
				c.EventsStarted++
				break
			}
		}
	}
	return c
}

// Print writes the report for people: what steward found, what it fixed
// or planned, and what waits for a person. Every line comes from the
// store.
func (r *Report) Print(w io.Writer) {
	c := r.Counts()
	fmt.Fprintf(w, "\nEvents: %d received, %d started a playbook\n", c.Events, c.EventsStarted)
	if len(r.Events) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, e := range r.Events {
			what := "no rule matched"
			if !e.Processed {
				what = "not processed yet"
			}
			var parts []string
			for _, m := range e.Matches {
				switch {
				case m.ExecutionARN != "":
					parts = append(parts, "started "+m.Playbook+" ("+lastPart(m.ExecutionARN)+")")
				case m.Skipped:
					parts = append(parts, "rule "+m.Rule+" skipped it: "+m.Reason)
				}
			}
			if len(parts) > 0 {
				what = strings.Join(parts, "; ")
			}
			fmt.Fprintf(tw, "  %s\t%s %s\t%s\n", e.Name, e.Account, e.Region, what)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nFound: %d resources looked at by playbooks (%d done, %d still running, %d failed)\n", c.Executions, c.Succeeded, c.Running, c.Failed)
	if len(r.Executions) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PLAYBOOK\tACCOUNT\tREGION\tRESOURCE\tTRIGGER\tRESULT")
		for _, e := range r.Executions {
			result := strings.ToLower(e.Status)
			switch {
			case e.Status == "SUCCEEDED" && e.Outcome == "fixed" && r.onlyPlanned(e.ARN):
				result = "fix planned, not made (stage " + r.stageOf(e.ARN) + ")"
			case e.Status == "SUCCEEDED" && e.Outcome != "":
				result = e.Outcome
			case e.Status == "RUNNING" && r.waitsForApproval(e.Name):
				result = "waiting for approval"
			case e.Error != "":
				result += " (" + e.Error + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.Playbook, dash(e.Account), dash(e.Region), dash(e.Resource), dash(e.Trigger), result)
		}
		tw.Flush()
	}
	if len(c.Outcomes) > 0 {
		var keys []string
		for k := range c.Outcomes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, c.Outcomes[k]))
		}
		fmt.Fprintf(w, "  outcomes: %s\n", strings.Join(parts, ", "))
	}

	fmt.Fprintf(w, "\nChanges: %d made, %d planned (not made: observe or notify stage), %d rolled back, %d failed\n", c.Applied, c.Planned, c.RolledBack, c.FailedChanges)
	if len(r.Changes) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CHANGE\tSTATUS\tSTAGE\tPLAYBOOK\tACTION\tRESOURCE\tACCOUNT\tREGION")
		for _, ch := range r.Changes {
			action := ch.Service + ":" + ch.Action
			if ch.Kind == store.KindNotice {
				action = "notice"
			} else if ch.Service == "" {
				action = string(ch.Kind) + " " + ch.Action
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ch.ID, ch.Status, dash(ch.Stage), ch.Playbook, action, dash(lastPart(ch.Resource)), dash(ch.Account), dash(ch.Region))
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nApprovals waiting: %d\n", c.Approvals)
	if len(r.Approvals) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  APPROVAL\tPLAYBOOK\tRESOURCE\tOWNER\tDEFAULT\tDEADLINE")
		for _, a := range r.Approvals {
			deadline := "-"
			if !a.Deadline.IsZero() {
				deadline = a.Deadline.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Playbook, dash(lastPart(a.Resource)), dash(a.Owner), dash(a.Default), deadline)
		}
		tw.Flush()
	}
}

// onlyPlanned reports whether an execution's change records are all
// plans: it ran in the observe or notify stage.
func (r *Report) onlyPlanned(arn string) bool {
	planned := false
	for _, ch := range r.Changes {
		if ch.ExecutionARN != arn || ch.Kind == store.KindNotice {
			continue
		}
		if ch.Status != store.StatusPlanned {
			return false
		}
		planned = true
	}
	return planned
}

// stageOf is the stage an execution's change records were made in.
func (r *Report) stageOf(arn string) string {
	for _, ch := range r.Changes {
		if ch.ExecutionARN == arn && ch.Stage != "" {
			return ch.Stage
		}
	}
	return "?"
}

// Undoable returns an applied change record that says how to undo it,
// preferring the newest; nil when there is none.
func (r *Report) Undoable() *store.Change {
	for i := len(r.Changes) - 1; i >= 0; i-- {
		ch := r.Changes[i]
		if ch.Status == store.StatusApplied && len(ch.Undo) > 0 && string(ch.Undo) != "null" && ch.Irreversible == "" {
			return ch
		}
	}
	return nil
}

// waitsForApproval reports whether a pending approval belongs to the
// execution named name.
func (r *Report) waitsForApproval(name string) bool {
	for _, a := range r.Approvals {
		if lastPart(a.ExecutionARN) == name {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
