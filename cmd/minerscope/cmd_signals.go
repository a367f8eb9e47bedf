package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSignalsCommand is a placeholder, replaced by its implementation.
func newSignalsCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "signals",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("signals: not implemented yet") },
	}
}
