//go:build !unix

package chaintest

import (
	"os"
	"os/exec"
)

// exeName returns the file name of an executable called name.
func exeName(name string) string { return name + ".exe" }

// setProcAttr does nothing where process groups are not available.
func setProcAttr(*exec.Cmd, bool) {}

// killGroup kills btcd.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := cmd.Process.Kill()
	if err == os.ErrProcessDone {
		return nil
	}
	return err
}

// interrupt stops btcd; without signals there is no clean shutdown request.
func interrupt(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
