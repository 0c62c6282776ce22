package change

import (
	"context"
	"fmt"
	"testing"

	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/task"
)

// BenchmarkGate measures what the gate adds to one mutating call: the
// pause and blast-radius checks, the change record (created pending, then
// applied, on SQLite with synchronous=NORMAL) and the recipe's before and
// after reads. "fake" calls an in-process fake AWS, so the figures are the
// gate's own cost; "awssim" goes over HTTP to the simulated AWS, where the
// reads are real calls too. "direct" is the same call without the gate.
func BenchmarkGate(b *testing.B) {
	huge := func(c *Config) { c.Limits = func(string) (int, int) { return 1 << 30, 1 << 30 } }
	run := func(b *testing.B, reg *task.Registry, resource, params string) {
		h, err := reg.Resolve(resource)
		if err != nil {
			b.Fatal(err)
		}
		in := decodeJSON(b, params)
		exec := execARN("bench", "e1")
		execInput := map[string]any{"account": acct, "region": region}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := h.Invoke(context.Background(), &task.Call{Resource: resource, Input: in, ExecutionID: exec, StateName: "S",
				IdempotencyKey: fmt.Sprint("k", i), ExecutionInput: execInput}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("fake/direct", func(b *testing.B) {
		reg := task.NewRegistry()
		reg.Register(ResourcePrefix+"*", newFakeAWS())
		run(b, reg, ResourcePrefix+"rds:stopDBInstance", `{"DBInstanceIdentifier":"db1"}`)
	})
	b.Run("fake/enforce", func(b *testing.B) {
		_, reg, _, _ := newFakeGate(b, huge)
		run(b, reg, ResourcePrefix+"rds:stopDBInstance", `{"DBInstanceIdentifier":"db1"}`)
	})
	b.Run("fake/observe", func(b *testing.B) {
		_, reg, _, _ := newFakeGate(b, func(c *Config) { huge(c); c.Stages = stage.Fixed(stage.Observe) })
		run(b, reg, ResourcePrefix+"rds:stopDBInstance", `{"DBInstanceIdentifier":"db1"}`)
	})
	b.Run("fake/read-through", func(b *testing.B) {
		_, reg, _, _ := newFakeGate(b, huge)
		run(b, reg, ResourcePrefix+"rds:describeDBInstances", `{"DBInstanceIdentifier":"db1"}`)
	})
	b.Run("awssim/direct", func(b *testing.B) {
		e := newEnv(b, huge)
		run(b, func() *task.Registry { r := task.NewRegistry(); e.cloud.Register(r); return r }(), ResourcePrefix+"ec2:createTags", `{"Resources":["vol-1"],"Tags":[{"Key":"k","Value":"v"}]}`)
	})
	b.Run("awssim/enforce", func(b *testing.B) {
		e := newEnv(b, huge)
		run(b, e.reg, ResourcePrefix+"ec2:createTags", `{"Resources":["vol-1"],"Tags":[{"Key":"k","Value":"v"}]}`)
	})
}
