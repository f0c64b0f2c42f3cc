// Package ident holds the one rule for TARS identifiers (interface, method,
// parameter and field names), shared by the codec, the root package and the
// configuration.
package ident

// Valid reports whether s is a TARS (C-like, ASCII) identifier: a letter
// or '_', then letters, digits and '_'.
func Valid(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
