package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newVerifyCommand is a placeholder, replaced by its implementation.
func newVerifyCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "verify",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("verify: not implemented yet") },
	}
}
