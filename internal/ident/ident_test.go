package ident

import "testing"

func TestValid(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"getUser", true}, {"_x1", true}, {"A", true},
		{"", false}, {"1a", false}, {"a-b", false}, {"a.b", false}, {"é", false}, {"a b", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.s); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
