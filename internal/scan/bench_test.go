package scan

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// The benchmark's organisation: 5 accounts x 4 regions x 5,000 unattached
// volumes (plus 100 attached ones per region the filter leaves out).
var (
	benchAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	benchRegions  = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
)

// benchPerTarget is how many unattached volumes each (account, region)
// holds: 5,000 by default; -scan.per-target changes it (for profiling).
var benchPerTargetFlag = flag.Int("scan.per-target", 5000, "BenchmarkScan: unattached volumes per account and region")

var benchPerTarget int

// benchSim is shared by the sub-benchmarks (seeding 100,000 volumes takes
// a while).
var benchSim struct {
	once sync.Once
	sim  *awssim.Sim
	url  string
}

func simForBench(b *testing.B) (*awssim.Sim, string) {
	benchSim.once.Do(func() {
		benchPerTarget = *benchPerTargetFlag
		sim := awssim.New(awssim.Options{})
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		must(sim.AddAccount(awssim.AccountInfo{ID: homeAccount, Name: "home"}))
		must(sim.AddCredential(awssim.Credential{AccessKeyID: homeKey, SecretAccessKey: homeSecret, Account: homeAccount}))
		for _, a := range benchAccounts {
			must(sim.AddAccount(awssim.AccountInfo{ID: a, Name: "acct-" + a}))
			for _, r := range benchRegions {
				vols := make([]awssim.Volume, 0, benchPerTarget+100)
				for i := range benchPerTarget {
					vols = append(vols, awssim.Volume{Size: 1 + i%100, State: "available"})
				}
				for range 100 {
					vols = append(vols, awssim.Volume{Size: 8, State: "in-use",
						Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0", Device: "/dev/sdf", State: "attached"}}})
				}
				must(sim.AddResources(a, r, awssim.Resources{Volumes: vols}))
			}
		}
		benchSim.sim = sim
		benchSim.url, _ = sim.Start() // lives for the test binary
	})
	return benchSim.sim, benchSim.url
}

func benchCloud(b *testing.B, url string, rate cloud.Rate) (*cloud.Cloud, *cloud.Inventory) {
	var accts []cloud.Account
	for _, a := range benchAccounts {
		accts = append(accts, cloud.Account{ID: a, Class: "sandbox", Regions: benchRegions,
			Role: cloud.RoleFor("arn:aws:iam::{account}:role/steward", a)})
	}
	inv := cloud.NewInventory(accts)
	c, err := cloud.New(context.Background(), cloud.Config{Inventory: inv, Endpoint: url,
		Credentials: credentials.NewStaticCredentialsProvider(homeKey, homeSecret, ""), Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	return c, inv
}

// countingEngine starts nothing: it counts, so a benchmark measures the
// listing alone.
type countingEngine struct{ n atomic.Int64 }

func (e *countingEngine) StateMachineARN(name string) string {
	return "arn:aws:states:us-east-1:000000000000:stateMachine:" + name
}
func (e *countingEngine) StartExecution(context.Context, engine.StartExecutionInput) (*store.Execution, error) {
	e.n.Add(1)
	return &store.Execution{}, nil
}
func (e *countingEngine) ListExecutions(context.Context, store.ListExecutionsParams) ([]*store.Execution, string, error) {
	return nil, "", nil
}

// memStore keeps scans in memory, for the list-only runs.
type memStore struct {
	store.ScheduleStore
	mu    sync.Mutex
	scans map[string]store.Scan
}

func (m *memStore) CreateScan(_ context.Context, s store.Scan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scans == nil {
		m.scans = map[string]store.Scan{}
	}
	m.scans[s.ID] = s
	return nil
}

func (m *memStore) UpdateScan(_ context.Context, s store.Scan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans[s.ID] = s
	return nil
}

// benchSync is the SQLite synchronous mode of the list+start run: FULL,
// steward serve's default, unless STEWARD_BENCH_SYNC says otherwise.
func benchSync() string {
	if s := os.Getenv("STEWARD_BENCH_SYNC"); s != "" {
		return s
	}
	return "FULL"
}

// cpuTime returns the CPU time (user and system) the process used so far:
// with the machine shared, wall time says more about the neighbours than
// about steward; CPU time (the simulated AWS's included) does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the heap in use until stopped.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// BenchmarkScan scans the ebs-unused spec (DescribeVolumes, status
// available, pages of 500) over 5 accounts x 4 regions x 5,000 volumes in
// awssim through aws-sdk-go-v2 over HTTP:
//
//   - list: listing only, at steward's default rate (20 calls/s, burst 40
//     per account, region and service);
//   - list-1rps: listing only, the limiter at 1 call/s, burst 1, to show
//     the wall time is what the limiter implies (11 calls per target, the
//     targets in parallel: 10 waits of 1s, so at least 10s);
//   - list+start: listing and starting the 100,000 executions through a
//     real durable engine on SQLite (a playbook that parks in a Wait
//     state, so the figure is list + start).
func BenchmarkScan(b *testing.B) {
	sim, url := simForBench(b)
	starters := 0
	if s := os.Getenv("STEWARD_BENCH_STARTERS"); s != "" {
		starters, _ = strconv.Atoi(s)
	}
	spec := Spec{Service: "ec2", Action: "DescribeVolumes", Items: "Volumes",
		Parameters: map[string]any{"Filters": []any{map[string]any{"Name": "status", "Values": []any{"available"}}}, "MaxResults": 500}}
	want := len(benchAccounts) * len(benchRegions) * benchPerTarget

	listOnly := func(rate cloud.Rate) func(b *testing.B) {
		return func(b *testing.B) {
			c, inv := benchCloud(b, url, rate)
			ctx := context.Background()
			for range b.N {
				sim.ResetCalls()
				eng := &countingEngine{}
				r := &Runner{Lister: c, Targets: inv.Targets, Engine: eng, Store: &memStore{}}
				stop := peakHeap()
				start, cpu0 := time.Now(), cpuTime()
				sc, err := r.Run(ctx, Request{Playbook: "ebs-unused", Spec: spec})
				wall, cpu := time.Since(start), cpuTime()-cpu0
				peak := stop()
				if err != nil || sc.Listed != want || int(eng.n.Load()) != want {
					b.Fatalf("listed %d, started %d, want %d: %v", sc.Listed, eng.n.Load(), want, err)
				}
				calls := sim.Calls()
				b.ReportMetric(float64(calls["ec2:DescribeVolumes"]), "calls/op")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(cpu.Seconds(), "cpu-s")
				b.ReportMetric(float64(want)/wall.Seconds(), "resources/s")
			}
		}
	}
	b.Run("list", listOnly(cloud.Rate{Limit: 20, Burst: 40}))
	b.Run("list-1rps", listOnly(cloud.Rate{Limit: 1, Burst: 1}))

	b.Run("list+start", func(b *testing.B) {
		c, inv := benchCloud(b, url, cloud.Rate{Limit: 20, Burst: 40})
		ctx := context.Background()
		for i := range b.N {
			b.StopTimer()
			db, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{Synchronous: benchSync()})
			if err != nil {
				b.Fatal(err)
			}
			eng := engine.New(engine.Config{Store: db, Tasks: task.NewRegistry(), Clock: clock.NewFake(time.Now()), Owner: "bench"})
			if err := eng.Start(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: "ebs-unused",
				Definition: `{"StartAt":"Park","States":{"Park":{"Type":"Wait","Seconds":86400,"End":true}}}`}); err != nil {
				b.Fatal(err)
			}
			sim.ResetCalls()
			r := &Runner{Lister: c, Targets: inv.Targets, Engine: eng, Store: db, Starters: starters}
			stop := peakHeap()
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			sc, err := r.Run(ctx, Request{ID: fmt.Sprintf("bench-%d", i), Playbook: "ebs-unused", Spec: spec})
			wall, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			peak := stop()
			if err != nil || sc.Listed != want || sc.Started != want {
				b.Fatalf("listed %d, started %d, want %d: %v", sc.Listed, sc.Started, want, err)
			}
			b.ReportMetric(float64(sim.Calls()["ec2:DescribeVolumes"]), "calls/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
			b.ReportMetric(float64(want)/wall.Seconds(), "executions/s")
			eng.Close()
			db.Close()
			b.StartTimer()
		}
	})
}
