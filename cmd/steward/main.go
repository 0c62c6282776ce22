// Command steward is a self-hosted security remediation orchestrator for AWS.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stewardhq/steward/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
