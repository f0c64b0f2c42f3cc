// Package other adds declarations to module badservices.
//
//tars:module badservices
package other

// Mode has a member named like a struct of the module.
type Mode int32

// Mode values.
const (
	Point Mode = 1
)

// Holder is a struct of module badservices from this package.
type Holder struct {
	M Mode `tars:"0"`
}
