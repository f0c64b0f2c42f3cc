package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

// TestBinaryStopsOnSIGTERM builds the command, starts it with a YAML file
// on 127.0.0.1:0, reads the bound address from its log, calls the
// UserService, sends SIGTERM and expects a graceful exit 0.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir)
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte(testYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config="+file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var log []string
	serving := regexp.MustCompile(`msg=serving servant=` + regexp.QuoteMeta(userapi.Servant) + ` addr=127\.0\.0\.1:(\d+)`)
	var port string
	for port == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("the server exited before serving:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if m := serving.FindStringSubmatch(l); m != nil {
				port = m[1]
			}
		case <-ctx.Done():
			t.Fatalf("no serving line:\n%s", strings.Join(log, "\n"))
		}
	}

	c, err := tars.NewClient(userapi.Servant + "@tcp -h 127.0.0.1 -p " + port + " -t 3000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "ada", Email: "ada@example.com"}})
	if err != nil || u.Ret != userapi.RetOK || u.Result.UserID != 1 {
		t.Fatalf("createUser: %+v, %v", u, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		log = append(log, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(log, "\n"))
	}
	if !strings.Contains(strings.Join(log, "\n"), "msg=stopped") {
		t.Errorf("no stopped line:\n%s", strings.Join(log, "\n"))
	}
}

// build builds the command into dir.
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "digserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryExitCodes: a missing -config and a bad file exit 2, the error
// naming the key and the file; an endpoint it cannot bind exits 1.
func TestBinaryExitCodes(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir)
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("servants:\n  UserService.UserServiceObj:\n    endpoint: tcp -h 127.0.0.1 -p 0\n    queue_cap: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	unbindable := filepath.Join(dir, "unbindable.yaml")
	if err := os.WriteFile(unbindable, []byte(fmt.Sprintf("servants:\n  UserService.UserServiceObj:\n    endpoint: tcp -h 127.0.0.1 -p %d\n", taken.Addr().(*net.TCPAddr).Port)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-config FILE is required"},
		{[]string{"-config", bad}, 2, "servants.UserService.UserServiceObj.queue_cap"},
		{[]string{"-config", filepath.Join(dir, "missing.yaml")}, 2, "missing.yaml"},
		{[]string{"-config", unbindable}, 1, "servants.UserService.UserServiceObj.endpoint"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, bin, tc.args...).CombinedOutput()
		cancel()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("digserver %q: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
}
