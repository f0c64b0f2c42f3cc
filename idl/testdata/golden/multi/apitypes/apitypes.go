// Package apitypes holds the structs of module Api.
//
//tars:module Api
package apitypes

import "github.com/gotars/tars/idl/testdata/golden/multi/common"

// Item uses a type of another module.
type Item struct {
	Name  string        `tars:"0,require"`
	Page  common.Page   `tars:"1"`
	State common.Status `tars:"2,default=1"`
	Kind  Kind          `tars:"3,default=1"`
}

// Kind has a member with the same name as a member of common.Status.
type Kind int32

// Kind values.
const (
	StatusGone Kind = 1
)
