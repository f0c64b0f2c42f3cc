// Command client runs the UserService demo against the servers a Consul
// agent lists for UserService.UserServiceObj, and exits non-zero at the
// first wrong answer.
//
//	go run ./client -consul 127.0.0.1:8500
package main

import (
	"flag"
	"fmt"
	"os"

	userconsul "github.com/gotars/tars/example/userservice/consul"
)

func main() {
	agent := flag.String("consul", "127.0.0.1:8500", "the Consul agent's HTTP address")
	flag.Parse()
	if err := userconsul.Demo(*agent, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
