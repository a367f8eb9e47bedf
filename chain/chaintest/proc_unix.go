//go:build unix

package chaintest

import (
	"os/exec"
	"syscall"
)

// exeName returns the file name of an executable called name.
func exeName(name string) string { return name }

// setProcAttr puts btcd in its own process group, so a terminal's Ctrl-C
// reaches only our process (which then stops btcd in order), and so that
// killGroup can take down anything btcd spawned.
func setProcAttr(cmd *exec.Cmd, detach bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !detach {
		setDeathSignal(cmd.SysProcAttr)
	}
}

// killGroup kills btcd's whole process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

// interrupt asks btcd to shut down cleanly.
func interrupt(cmd *exec.Cmd) error {
	return cmd.Process.Signal(syscall.SIGINT)
}
