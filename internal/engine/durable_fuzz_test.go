package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stewardhq/steward/internal/store"
)

// FuzzDurableOperations feeds the engine's operations what an API client
// could send: execution names and inputs, task tokens and outputs, history
// page tokens. Nothing may panic, and every rejection must carry a Step
// Functions error code.
func FuzzDurableOperations(f *testing.F) {
	f.Add("run-1", `{"a":1}`, "tok", `{"ok":true}`, "")
	f.Add("", `[1,2,{"x":null}]`, "YXJuOmF3czpzdGF0ZXM.00000000-0000-0000-0000-000000000000", `"s"`, "3")
	f.Add("bad name", `{`, "....", `{bad`, "-1")
	f.Add("x/y", `1e999`, "", `null`, "99999999999999999999")
	h := newHarness(f, func(c *Config) { c.Logf = func(string, ...any) {}; c.MaxPayloadBytes = 4096 })
	sm := h.machine("fuzz", tokenMachine)
	ctx := context.Background()
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, name, input, token, output, next string) {
		check := func(op string, err error) {
			if err != nil && ErrorCode(err) == "" && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: error without a code: %v", op, err)
			}
		}
		if name != "" {
			name = fmt.Sprintf("%s-%d", name, n.Add(1))
		}
		x, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: name, Input: input})
		check("StartExecution", err)
		check("SendTaskSuccess", h.e.SendTaskSuccess(ctx, token, output))
		check("SendTaskFailure", h.e.SendTaskFailure(ctx, token, output, next))
		check("SendTaskHeartbeat", h.e.SendTaskHeartbeat(ctx, token))
		if x != nil {
			_, _, err := h.e.GetExecutionHistory(ctx, GetExecutionHistoryInput{ExecutionARN: x.ARN, NextToken: next, MaxResults: len(output)})
			check("GetExecutionHistory", err)
			for _, tok := range h.tokens(x.ARN) {
				check("SendTaskSuccess", h.e.SendTaskSuccess(ctx, tok, output))
			}
			_, err = h.e.StopExecution(ctx, x.ARN, token, output)
			check("StopExecution", err)
		}
		_, _, err = h.e.ListExecutions(ctx, store.ListExecutionsParams{ListParams: store.ListParams{NextToken: next}})
		check("ListExecutions", err)
	})
}

// FuzzDecodeRuntime: a stored runtime that is damaged is rejected, never
// a panic when the engine walks it.
func FuzzDecodeRuntime(f *testing.F) {
	f.Add([]byte(`{"runs":[{"id":0,"parent":-1,"phase":"ready","state":"A","input":{}}]}`))
	f.Add([]byte(`{"runs":[{"id":0,"parent":-1,"phase":"children","state":"M","kids":{"map":true,"ids":[1],"started":1}},{"id":1,"parent":0,"phase":"task","state":"T","task":{"key":"k"}}],"timers":{"run/1":"2024-01-01T00:00:00Z"},"tokens":{"t":1}}`))
	f.Add([]byte(`{"runs":[null]}`))
	f.Add([]byte(`{"runs":[{"id":0,"parent":5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rt, err := decodeRuntime(data)
		if err != nil {
			return
		}
		rt.hasWork()
		rt.nextTimer()
		rt.dueTimers(durableT0)
		for k := range rt.Timers {
			parseTimerKey(k)
		}
		if _, err := rt.encode(); err != nil {
			t.Fatalf("a decoded runtime does not encode: %v", err)
		}
	})
}
