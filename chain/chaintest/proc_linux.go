//go:build linux

package chaintest

import "syscall"

// setDeathSignal makes the kernel kill btcd if our process dies without
// stopping it (a test binary killed by a timeout or an interrupt).
func setDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
