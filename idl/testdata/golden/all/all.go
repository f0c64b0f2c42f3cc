// Package all has a service and types its endpoints do not reach:
// exported with -all.
package all

import "github.com/gotars/tars"

// Priority is exported as an enum because it has constants.
type Priority int32

// Priorities.
const (
	Low  Priority = 1
	High Priority = 2
)

// Plain is a named int32 without constants: not an enum, left out.
type Plain int32

// Task is exported.
type Task struct {
	Title string   `tars:"0,require"`
	Prio  Priority `tars:"1,default=2"`
	Sub   []Step   `tars:"2"`
}

// Step is exported, before Task, which contains it.
type Step struct {
	Done bool `tars:"0"`
}

// Untagged has no tars tags: not a TARS struct.
type Untagged struct {
	Name string
}

// Archive is reached by no endpoint: exported with -all only.
type Archive struct {
	Tasks map[string]Task `tars:"0"`
}

// Tasks is a service.
var Tasks = tars.NewService("Tasks")

// Add stores a task.
var Add = tars.NewEndpoint[TaskArgs, TaskResults](Tasks, "add")

// TaskArgs is a parameter list: left out.
type TaskArgs struct {
	Task Task `tars:"1"`
}

// TaskResults embeds tars.Results: a result list, left out.
type TaskResults struct {
	tars.Results
	OK bool `tars:"0"`
}

// unexported is left out: -all exports exported types.
type unexported struct {
	X int32 `tars:"0"`
}
