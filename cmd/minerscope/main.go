// Command minerscope reads Bitcoin's chain from the user's own node and answers, with evidence, how much
// hashrate there is, when the next difficulty adjustment lands and how big it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

// Exit codes. Scripts may rely on them; they are documented in the README.
const (
	exitOK          = 0
	exitError       = 1 // anything not listed below
	exitUsage       = 2 // bad flags or arguments
	exitNodeAuth    = 3 // the node refused the credentials
	exitNodeDown    = 4 // the node could not be reached
	exitBadNode     = 5 // the node served data that failed verification
	exitWrongIndex  = 6 // the index belongs to another network or mode, is newer than this binary, or is in use
	exitInterrupted = 130
)

// usageError marks errors in flags or arguments so they map to exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode is the one place that maps errors to exit codes.
func exitCode(err error) int {
	var ue usageError
	var ve verdictError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ve) && ve.verdict == analysis.VerdictInconsistent:
		return exitError // verify: the claim is inconsistent with the chain
	case errors.As(err, &ve):
		return exitUsage // verify: the claim cannot be verified
	case errors.Is(err, chain.ErrAuth):
		return exitNodeAuth
	case errors.Is(err, chain.ErrUnreachable):
		return exitNodeDown
	case errors.Is(err, chain.ErrBadHeader), errors.Is(err, chain.ErrBadBlock):
		return exitBadNode
	case errors.Is(err, index.ErrWrongNetwork), errors.Is(err, index.ErrSchemaTooNew),
		errors.Is(err, index.ErrLocked), errors.Is(err, index.ErrModeChange),
		errors.Is(err, index.ErrNeedsRebuild):
		return exitWrongIndex
	default:
		return exitError
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := newRootCommand().ExecuteContext(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "minerscope: interrupted; the index is consistent up to the last block written")
		} else {
			fmt.Fprintf(os.Stderr, "minerscope: %v\n", err)
		}
	}
	os.Exit(exitCode(err))
}
