package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newEconomicsCommand is a placeholder, replaced by its implementation.
func newEconomicsCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "economics",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("economics: not implemented yet") },
	}
}
