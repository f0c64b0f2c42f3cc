//go:build race && linux

package interop

// TarsGo v1.4.6 is not free of data races: its client (ServantProxy.doInvoke,
// endpointManager.preInvoke, AdapterProxy.Send/Recv), its transport
// (connection.send/close, tcpHandler.recv) and its clock cache (util/gtime)
// share fields between goroutines without synchronisation. Under -race (as
// CI runs the interop module) every test that runs a TarsGo client or server
// would fail on TarsGo's races, not ours.
//
// So a race-enabled test binary runs itself again with the race detector told
// to suppress reports that involve TarsGo's code (GORACE suppressions, a
// ThreadSanitizer feature the Go runtime honours), and exits with the child's
// status. Races within gotars (its server, client, codec) have no TarsGo
// frame and are still reported; gotars never calls into TarsGo. The child is
// marked by rpcRaceChildEnv and does not run itself again.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const rpcRaceChildEnv = "GOTARS_INTEROP_RACE_CHILD"

// rpcRaceSuppressions names TarsGo's code, by function name prefix.
const rpcRaceSuppressions = "race:github.com/TarsCloud/TarsGo/\n"

func init() {
	if os.Getenv(rpcRaceChildEnv) != "" {
		return
	}
	os.Exit(rpcRaceReexec())
}

func rpcRaceReexec() int {
	dir, err := os.MkdirTemp("", "gotars-interop-race")
	if err != nil {
		return rpcRaceFail(err)
	}
	defer os.RemoveAll(dir)
	supp := filepath.Join(dir, "tarsgo.supp")
	if err := os.WriteFile(supp, []byte(rpcRaceSuppressions), 0o644); err != nil {
		return rpcRaceFail(err)
	}
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " suppressions=" + supp)
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GORACE="+gorace, rpcRaceChildEnv+"=1")
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
		return rpcRaceFail(err)
	}
	return 0
}

func rpcRaceFail(err error) int {
	os.Stderr.WriteString("interop: running the race-enabled tests again with TarsGo's races suppressed: " + err.Error() + "\n")
	return 2
}
