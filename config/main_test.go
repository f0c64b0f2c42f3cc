package config

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the servers and clients the tests build leave no
// goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
