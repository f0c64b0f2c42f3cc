// Command mainpkg declares a service in package main: its module needs a
// name (-module or //tars:module).
package main

import "github.com/gotars/tars"

// Hello greets.
var Hello = tars.NewService("Hello")

// HelloArgs is (string name).
type HelloArgs struct {
	Name string `tars:"1"`
}

// Greet returns a greeting.
var Greet = tars.NewEndpoint[HelloArgs, string](Hello, "greet")

func main() {}
