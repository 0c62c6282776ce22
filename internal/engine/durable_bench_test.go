package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
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
