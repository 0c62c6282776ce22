package playbooktest

import (
	"fmt"

	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/playbooks"
)

// ScanOptions narrow a Scan.
type ScanOptions struct {
	// Accounts and Regions limit the scan; empty means the inventory's.
	Accounts []string
	Regions  []string
	// DryRun asks every execution for the observe stage.
	DryRun bool
}

// Scan does what a scheduled playbook's scan does, in the harness: in
// every account and region of the inventory (once per account for a
// global scan), it pages through the playbook's list call (with steward's
// own aws-sdk integration, so it acts where the inventory says) and starts
// one execution per item found, with the input of the contract:
// {"account", "region", "resource": <item>, "trigger": "schedule", "scan":
// <id>}. It returns the runs, not waiting for them.
func (h *Harness) Scan(playbook string, o ScanOptions) []*Run {
	h.T.Helper()
	p, err := playbooks.Get(playbook)
	if err != nil {
		h.T.Fatalf("playbooktest: scan: %v", err)
	}
	if p.Scan == nil {
		h.T.Fatalf("playbooktest: scan: %s has no scan", playbook)
	}
	scanID := fmt.Sprintf("scan-%s-%d", playbook, h.Clock.Now().Unix())
	resource := cloud.ResourcePrefix + p.Scan.Service + ":" + lowerFirst(p.Scan.Action)
	var runs []*Run
	for _, a := range h.Accounts {
		if len(o.Accounts) > 0 && !contains(o.Accounts, a.ID) {
			continue
		}
		regions := a.Regions
		if p.Scan.Global && len(regions) > 1 {
			regions = regions[:1]
		}
		for _, region := range regions {
			if len(o.Regions) > 0 && !contains(o.Regions, region) {
				continue
			}
			token := ""
			for {
				ctx := cloud.WithTarget(h.ctx, cloud.Target{Account: a.ID, Region: region})
				page, err := h.Cloud.Invoke(ctx, &task.Call{Resource: resource, Input: p.Scan.Input(token)})
				if err != nil {
					h.T.Fatalf("playbooktest: scan %s in account %s region %s: %v", playbook, a.ID, region, err)
				}
				items, err := p.Scan.ItemsOf(page)
				if err != nil {
					h.T.Fatalf("playbooktest: scan %s: %v", playbook, err)
				}
				for _, it := range items {
					in := map[string]any{"account": a.ID, "region": region, "resource": it, "trigger": "schedule", "scan": scanID}
					if o.DryRun {
						in["steward"] = map[string]any{"stage": "observe"}
					}
					runs = append(runs, h.Start(playbook, in))
				}
				if token = p.Scan.NextTokenOf(page); token == "" {
					break
				}
			}
		}
	}
	return runs
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WaitAll waits for every run and returns their results, in order.
func WaitAll(runs []*Run) []*Result {
	out := make([]*Result, len(runs))
	for i, r := range runs {
		out[i] = r.Wait()
	}
	return out
}
