// Command client runs the UserService demo against any server of the seed's
// user.tars and exits non-zero at the first wrong answer.
//
//	go run ./example/userservice/client -endpoint "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userdemo"
)

func main() {
	endpoint := flag.String("endpoint", "UserService.UserServiceObj@tcp -h 127.0.0.1 -p 18015", "the servant object, in TARS syntax")
	version := flag.Int("version", int(tars.VersionTARS), "packet version: 1 TARS, 3 TUP, 5 JSON")
	flag.Parse()
	c, err := tars.NewClient(*endpoint, tars.WithVersion(int16(*version)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := userdemo.Run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
