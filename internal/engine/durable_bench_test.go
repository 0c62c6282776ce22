package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// chainMachine is a machine of n Pass states: n durable transitions.
func chainMachine(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"i":%d},"ResultPath":"$.last","End":true}`, i, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"i":%d},"ResultPath":"$.last","Next":"S%d"}`, i, i, i+1)
		}
	}
	b.WriteString("}}")
	return b.String()
}

// BenchmarkDurableTransitions measures durable state transitions per
// second: many executions of a 20-state Pass chain at once, every
// transition committed to SQLite (synchronous=FULL) before it counts.
func BenchmarkDurableTransitions(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			const states = 20
			st, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{Synchronous: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e := New(Config{Store: st, Tasks: task.NewRegistry(), Owner: "bench"})
			ctx := context.Background()
			if err := e.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "chain", Definition: chainMachine(states)})
			if err != nil {
				b.Fatal(err)
			}
			execs := max(1, b.N/states)
			b.ResetTimer()
			begin := time.Now()
			arns := make([]string, execs)
			var wg sync.WaitGroup
			const starters = 16
			for w := 0; w < starters; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < execs; i += starters {
						x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm.ARN, Name: fmt.Sprintf("e%d", i), Input: `{}`})
						if err != nil {
							b.Error(err)
							return
						}
						arns[i] = x.ARN
					}
				}(w)
			}
			wg.Wait()
			for {
				list, _, err := st.ListExecutions(ctx, store.ListExecutionsParams{Status: StatusRunning, ListParams: store.ListParams{Limit: 1}})
				if err != nil {
					b.Fatal(err)
				}
				if len(list) == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			elapsed := time.Since(begin)
			b.StopTimer()
			for _, a := range arns[:min(len(arns), 3)] {
				x, _ := st.GetExecution(ctx, a)
				if x.Status != StatusSucceeded {
					b.Fatalf("%s: %s %s", a, x.Status, x.Cause)
				}
			}
			b.ReportMetric(float64(execs*states)/elapsed.Seconds(), "transitions/s")
			b.ReportMetric(float64(execs)/elapsed.Seconds(), "executions/s")
		})
	}
}

// BenchmarkDurableParked100k parks 100,000 executions, half on a Wait of
// a day and half on a .waitForTaskToken task, and reports the memory the
// process holds once they are parked: they cost rows, not goroutines.
// Run it explicitly: go test -run '^$' -bench DurableParked100k -benchtime 1x ./internal/engine
func BenchmarkDurableParked100k(b *testing.B) {
	benchParked(b, 100_000)
}

func benchParked(b *testing.B, total int) {
	st, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	tasks := task.NewRegistry()
	tasks.Register("steward:ask", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) { return nil, nil }))
	e := New(Config{Store: st, Tasks: tasks, Owner: "bench"})
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	wait, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "wait", Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`})
	if err != nil {
		b.Fatal(err)
	}
	ask, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "ask", Definition: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"steward:ask.waitForTaskToken","HeartbeatSeconds":3600,"End":true}}}`})
	if err != nil {
		b.Fatal(err)
	}
	var before goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	b.ResetTimer()
	begin := time.Now()
	var wg sync.WaitGroup
	const starters = 32
	for w := 0; w < starters; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total; i += starters {
				sm := wait.ARN
				if i%2 == 1 {
					sm = ask.ARN
				}
				if _, err := e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: fmt.Sprintf("p%d", i), Input: `{"resource":"vol-0123456789abcdef0"}`}); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for {
		e.mu.Lock()
		n := len(e.actors)
		e.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	goruntime.GC()
	var after goruntime.MemStats
	goruntime.ReadMemStats(&after)
	running, _, err := st.ListExecutions(ctx, store.ListExecutionsParams{Status: StatusRunning, ListParams: store.ListParams{Limit: total + 1}})
	if err != nil {
		b.Fatal(err)
	}
	if len(running) != total {
		b.Fatalf("%d executions parked, want %d", len(running), total)
	}
	running = nil
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-inuse-MB")
	b.ReportMetric(float64(after.Sys)/(1<<20), "sys-MB")
	b.ReportMetric(float64(goruntime.NumGoroutine()), "goroutines")
	b.ReportMetric(float64(total)/elapsed.Seconds(), "parked/s")
	if rss, ok := residentMB(); ok {
		b.ReportMetric(rss, "rss-MB")
	}
}

// residentMB reads the process's resident set size from /proc.
func residentMB() (float64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%f", &kb); err == nil {
				return kb / 1024, true
			}
		}
	}
	return 0, false
}

// BenchmarkDurableParkedSmall is the same with 2,000 executions, quick
// enough for a routine run.
func BenchmarkDurableParkedSmall(b *testing.B) {
	benchParked(b, 2_000)
}

// BenchmarkStartExecution measures StartExecution calls per second from
// many callers at once (the API's load), each start committed before it
// returns; the executions run a one-state Pass machine meanwhile.
func BenchmarkStartExecution(b *testing.B) {
	st, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := New(Config{Store: st, Tasks: task.NewRegistry(), Owner: "bench"})
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "pass", Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	begin := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm.ARN, Name: fmt.Sprintf("s%d", n.Add(1)), Input: `{"finding":"sg-open-ingress"}`}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "starts/s")
}
