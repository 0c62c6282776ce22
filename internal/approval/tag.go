package approval

import (
	"context"
	"fmt"

	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/store"
)

// ExceptionTagger returns a Config.TagFunc that mirrors a granted
// exception as the <prefix>exception tag on its resource, through the
// built-in tasks' tagging (the Resource Groups Tagging API in the
// resource's account and region), in the format steward:exception reads.
func ExceptionTagger(b *builtin.Tasks) func(ctx context.Context, e store.Exception) error {
	return func(ctx context.Context, e store.Exception) error {
		w, err := builtin.Locate(e.Resource, map[string]any{"account": e.Account, "region": e.Region})
		if err != nil {
			return fmt.Errorf("exception tag: %w", err)
		}
		key, err := b.Key("exception")
		if err != nil {
			return err
		}
		return b.TagResource(ctx, w, map[string]string{key: builtin.FormatExceptionTag(e.Until, e.Reason)})
	}
}
