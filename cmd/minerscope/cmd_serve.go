package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newServeCommand is a placeholder, replaced by its implementation.
func newServeCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "serve",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("serve: not implemented yet") },
	}
}
