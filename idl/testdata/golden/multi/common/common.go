// Package common holds types shared by several services; its module is
// its package name, common.
package common

import "github.com/gotars/tars"

// Status is shared.
type Status int32

// Status values.
const (
	StatusOK   Status = 0
	StatusGone Status = 1
)

// Page is shared.
type Page struct {
	Offset int32  `tars:"0"`
	Limit  int32  `tars:"1,default=20"`
	State  Status `tars:"2,default=1"`
}

// Unused is never reached from the exported services.
type Unused struct {
	X int32 `tars:"0"`
}

// Admin is a service of this package: not exported when only the packages
// that use its types are asked for.
var Admin = tars.NewService("Admin")

// Reset belongs to Admin.
var Reset = tars.NewEndpoint[tars.Void, tars.Void](Admin, "reset")
