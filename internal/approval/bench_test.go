package approval

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// fakeEngine answers every token and says every execution runs.
type fakeEngine struct{}

func (fakeEngine) SendTaskSuccess(context.Context, string, string) error { return nil }
func (fakeEngine) DescribeExecution(_ context.Context, arn string) (*store.Execution, error) {
	return &store.Execution{ARN: arn, Status: "RUNNING"}, nil
}

// BenchmarkAskAndDecide: one approval asked (the task call), sent (a
// notifier that records nothing) and decided, on SQLite: the store work
// one person in the loop costs.
func BenchmarkAskAndDecide(b *testing.B) {
	st, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := New(Config{Store: st, Notifier: nopNotifier{}, Router: notify.NewRouter(notify.RouterConfig{Owners: map[string]string{"alice": "alice@example.com"}}),
		Exceptions: st, BatchWindow: -1})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetEngine(fakeEngine{})
	ctx := context.Background()
	in := map[string]any{"Resource": "arn:aws:ec2:eu-west-1:222222222222:volume/vol-1", "Owner": "alice", "Subject": "s", "Action": "delete"}
	exin := map[string]any{"account": "222222222222", "region": "eu-west-1"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call := &task.Call{Resource: Resource + ".waitForTaskToken", Input: in, Token: fmt.Sprint("tok", i), IdempotencyKey: fmt.Sprint("key", i),
			ExecutionID: fmt.Sprintf("arn:aws:states:us-east-1:000000000000:execution:ebs-unused:x%d", i), StateName: "Ask", ExecutionInput: exin}
		out, err := svc.Invoke(ctx, call)
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.sendUnsent(ctx); err != nil {
			b.Fatal(err)
		}
		id := out.(map[string]any)["approvalId"].(string)
		if _, err := svc.Decide(ctx, DecideParams{ID: id, Choice: approve.ChoiceApprove, By: "alice", Channel: "cli"}); err != nil {
			b.Fatal(err)
		}
	}
}

type nopNotifier struct{}

func (nopNotifier) Notify(_ context.Context, to notify.Recipient, ns ...notify.Notice) (notify.Receipt, error) {
	return notify.Receipt{To: to, ID: "x"}, nil
}
