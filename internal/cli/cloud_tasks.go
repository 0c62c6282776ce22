package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/task"
)

// awsFlags choose where aws-sdk tasks act.
type awsFlags struct {
	accounts string
	endpoint string
}

func (f *awsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.accounts, "accounts", "", "account inventory (YAML: accounts, regions, roles); without it aws-sdk tasks act with steward's own credentials")
	cmd.Flags().StringVar(&f.endpoint, "aws-endpoint", "", "base URL for every AWS service (LocalStack, moto); default AWS_ENDPOINT_URL, else AWS")
}

// registerCloud adds the AWS SDK integrations
// (arn:aws:states:::aws-sdk:<service>:<action>) to tasks.
func (f *awsFlags) registerCloud(ctx context.Context, tasks *task.Registry) (*cloud.Cloud, error) {
	cfg := cloud.Config{Endpoint: f.endpoint}
	if f.accounts != "" {
		inv, err := cloud.LoadInventoryFile(f.accounts)
		if err != nil {
			return nil, withHint(err, "steward accounts ls --config "+f.accounts+" shows what is wrong")
		}
		cfg.Inventory = inv.Inventory()
	}
	c, err := cloud.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	c.Register(tasks)
	return c, nil
}
