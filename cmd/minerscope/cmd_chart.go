package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newChartCommand is a placeholder, replaced by its implementation.
func newChartCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "chart",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("chart: not implemented yet") },
	}
}
