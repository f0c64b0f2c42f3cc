// Package api declares the Catalog service in module Api.
//
//tars:module Api
package api

import (
	"github.com/gotars/tars"
	"github.com/gotars/tars/idl/testdata/golden/multi/apitypes"
	"github.com/gotars/tars/idl/testdata/golden/multi/common"
)

// Catalog lists items.
var Catalog = tars.NewService("Catalog")

// ListArgs is (Page page).
type ListArgs struct {
	Page common.Page `tars:"1,name=page"`
}

// ListResults is (out vector<Item> items) with a Status return value.
type ListResults struct {
	tars.Results
	Status common.Status   `tars:"0"`
	Items  []apitypes.Item `tars:"2,name=items"`
}

// List returns a page of items.
var List = tars.NewEndpoint[ListArgs, ListResults](Catalog, "list")
