package ldaptest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has slapd killed when the test binary dies without
// cleaning up (a panic, a -timeout), so that no slapd outlives its test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
