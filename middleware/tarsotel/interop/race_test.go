//go:build race && linux

package interop

// TarsGo v1.4.6 has data races of its own (its transport's connection
// bookkeeping, its clock cache in util/gtime, its client's proxies), so
// under -race every test that runs a TarsGo server or client would fail on
// TarsGo's races. As in the root interop module, a race-enabled test binary
// runs itself again with GORACE suppressions naming TarsGo's code and exits
// with the child's status; races without a TarsGo frame (gotars, the
// middleware, the OpenTelemetry SDK) are still reported.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const raceChildEnv = "GOTARS_TARSOTEL_INTEROP_RACE_CHILD"

func init() {
	if os.Getenv(raceChildEnv) != "" {
		return
	}
	os.Exit(raceReexec())
}

func raceReexec() int {
	dir, err := os.MkdirTemp("", "gotars-tarsotel-race")
	if err != nil {
		return raceFail(err)
	}
	defer os.RemoveAll(dir)
	supp := filepath.Join(dir, "tarsgo.supp")
	if err := os.WriteFile(supp, []byte("race:github.com/TarsCloud/TarsGo/\n"), 0o644); err != nil {
		return raceFail(err)
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" suppressions="+supp), raceChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive go test
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return raceFail(err)
	}
	return 0
}

func raceFail(err error) int {
	os.Stderr.WriteString("tarsotel/interop: running the race-enabled tests again with TarsGo's races suppressed: " + err.Error() + "\n")
	return 2
}
