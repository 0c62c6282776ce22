package cloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ForEachTarget runs fn for every target at once, each in its own
// goroutine: the rate limiter per (account, region, service) is what keeps
// the calls within AWS's limits, so targets need no other throttle. It
// waits for all and returns their errors joined, each naming its target.
func ForEachTarget(ctx context.Context, targets []Target, fn func(ctx context.Context, t Target) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, t); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", t, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
