package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/asl"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check playbooks (ASL in JSON or YAML) and print every problem",
		Long: `Validate parses each file as an Amazon States Language definition, in JSON or
YAML, and checks it as Step Functions does. It exits 0 when every file is
valid; otherwise it prints each problem, with the state and field, and exits 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			bad := 0
			for _, path := range args {
				problems, err := validateFile(path)
				if err != nil {
					fmt.Fprintf(out, "%s: %v\n", path, err)
					bad++
					continue
				}
				if len(problems) == 0 {
					fmt.Fprintf(out, "%s: valid\n", path)
					continue
				}
				bad++
				for _, p := range problems {
					fmt.Fprintf(out, "%s: %s\n", path, p)
				}
			}
			if bad > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
}

// validateFile returns the problems of one definition file; an error means
// the file could not be read at all.
func validateFile(path string) ([]asl.Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, err = asl.Parse(data)
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		return ve.Problems, nil
	}
	return nil, err
}
