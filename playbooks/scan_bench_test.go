package playbooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/playbooktest"
	"github.com/stewardhq/steward/internal/scan"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/playbooks"
)

// BenchmarkEBSUnusedScanEndToEnd is `steward scan --playbook ebs-unused`
// without the HTTP in front: internal/scan lists the unattached volumes of
// 5 accounts x 4 regions through the aws-sdk integration and starts one
// durable execution per volume (SQLite, synchronous=FULL, and the cloud
// package's rate limits as steward serve has them), and the real
// playbook runs each to its end behind the change gate and the built-ins
// (exception check, last-seen with CloudTrail, snapshot and delete after
// 45 days). Per account and region: STEWARD_BENCH_VOLUMES volumes
// (default 100): 80% seen for the first time (tagged, compliant), 10%
// unattached for 46 days (snapshot and delete), 10% with an exception.
// Reported: volumes per second through the whole playbook, AWS calls by
// action, peak heap. AWS's own floor for the same work: CloudTrail's
// LookupEvents quota (2 per second per account and region) times the
// lookups per target, reported as aws-floor-s.
func BenchmarkEBSUnusedScanEndToEnd(b *testing.B) {
	perTarget := 100
	if s := os.Getenv("STEWARD_BENCH_VOLUMES"); s != "" {
		perTarget, _ = strconv.Atoi(s)
	}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	var accounts []playbooktest.Account
	for i := range 5 {
		accounts = append(accounts, playbooktest.Account{ID: fmt.Sprintf("%012d", 100000000001+i), Class: "development", Regions: regions})
	}
	p, err := playbooks.Get("ebs-unused")
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		b.StopTimer()
		// Every tenth volume is deleted: far past the playbook's blast radius,
		// which is what steward.yaml raises for a first clean-up.
		h := playbooktest.New(b, playbooktest.Options{Accounts: accounts, Playbooks: []*playbooks.Playbook{p},
			Limits: func(string) (int, int) { return 100000, 100000 }, AsDeployed: true})
		h.NeedSim("seeds volumes")
		old := h.Clock.Now().Add(-46 * 24 * time.Hour).UTC().Format(time.RFC3339)
		until := h.Clock.Now().Add(20 * 24 * time.Hour).UTC().Format("2006-01-02")
		for _, a := range accounts {
			for _, r := range regions {
				vols := make([]awssim.Volume, perTarget)
				for i := range vols {
					vols[i] = awssim.Volume{ID: fmt.Sprintf("vol-%s%s%06d", a.ID[8:], r[:2], i), Size: 8}
					switch i % 10 {
					case 0:
						vols[i].Tags = tags("steward:last-seen", old)
					case 1:
						vols[i].Tags = tags("steward:last-seen", old, "steward:exception", until+";benchmark")
					}
				}
				if err := h.Sim.AddResources(a.ID, r, awssim.Resources{Volumes: vols}); err != nil {
					b.Fatal(err)
				}
			}
		}
		h.Sim.ResetCalls()
		runner := &scan.Runner{Lister: h.Cloud, Targets: h.Cloud.Inventory().Targets, Engine: h.Engine, Store: h.Store}
		spec := scan.Spec{Service: p.Scan.Service, Action: p.Scan.Action, Parameters: p.Scan.Parameters, Items: p.Scan.Items,
			NextToken: p.Scan.NextToken, OutputToken: p.Scan.OutputToken, ID: p.Scan.ID, Global: p.Scan.Global}
		stopPeak := peakHeapSampler()
		b.StartTimer()
		start := time.Now()
		sc, err := runner.Run(h.Context(), scan.Request{Playbook: "ebs-unused", Spec: spec})
		if err != nil {
			b.Fatal(err)
		}
		listed := time.Since(start)
		want := len(accounts) * len(regions) * perTarget
		if sc.Listed != want {
			b.Fatalf("listed %d volumes, want %d", sc.Listed, want)
		}
		outcomes := waitForAll(b, h, want)
		wall := time.Since(start)
		b.StopTimer()
		peak := stopPeak()
		calls := h.Sim.Calls()
		if outcomes["fixed"] != want/10 || outcomes["exception"] != want/10 || outcomes["compliant"] != want*8/10 {
			b.Fatalf("outcomes %v for %d volumes", outcomes, want)
		}
		total := calls["total"]
		b.ReportMetric(float64(want), "volumes")
		b.ReportMetric(listed.Seconds(), "list+start-s")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(want)/wall.Seconds(), "volumes/s")
		b.ReportMetric(float64(total), "aws-calls")
		b.ReportMetric(float64(calls["ec2:DescribeVolumes"]), "list-calls")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(calls["cloudtrail:LookupEvents"])/float64(len(accounts)*len(regions))/2, "aws-floor-s")
		b.Logf("%d volumes in %v (listed and started in %v): outcomes %v; AWS calls %v", want, wall, listed, outcomes, calls)
	}
}

// waitForAll waits until want executions of ebs-unused have ended and
// counts their outcomes.
func waitForAll(b *testing.B, h *playbooktest.Harness, want int) map[string]int {
	arn := h.Engine.StateMachineARN("ebs-unused")
	deadline := time.Now().Add(30 * time.Minute)
	for {
		pollStart := time.Now()
		outcomes := map[string]int{}
		done := 0
		token := ""
		for {
			xs, next, err := h.Engine.ListExecutions(h.Context(), store.ListExecutionsParams{StateMachineARN: arn, ListParams: store.ListParams{Limit: 1000, NextToken: token}})
			if err != nil {
				b.Fatal(err)
			}
			for _, x := range xs {
				if x.Status == "RUNNING" {
					continue
				}
				done++
				outcomes[outcomeOf(x.Output)]++
			}
			if next == "" {
				break
			}
			token = next
		}
		if done >= want {
			return outcomes
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d executions ended in 30 minutes", done, want)
		}
		// Listing every execution costs CPU the playbooks need: poll at
		// most a fifth of the time, and at least every 10 seconds (the
		// reported wall time is late by up to one interval).
		time.Sleep(min(10*time.Second, max(100*time.Millisecond, 4*time.Since(pollStart))))
	}
}

func outcomeOf(output string) string {
	var o struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(output), &o); err != nil || o.Outcome == "" {
		return "failed"
	}
	return o.Outcome
}

// peakHeapSampler samples the live heap every 10 ms until stopped and
// returns the largest value seen.
func peakHeapSampler() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			if v := sample[0].Value.Uint64(); v > peak {
				peak = v
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		cancel()
		<-done
		runtime.GC()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
