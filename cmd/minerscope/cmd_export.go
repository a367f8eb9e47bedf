package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newExportCommand is a placeholder, replaced by its implementation.
func newExportCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "export",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("export: not implemented yet") },
	}
}
