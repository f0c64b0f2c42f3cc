package configtarsgo

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests, but for the two
// that TarsGo's packages start when imported (tarsgo_app_test.go runs
// TarsGo's config reading in a child process).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/TarsCloud/TarsGo/tars/util/gtime.init.0.func1"),
		goleak.IgnoreTopFunction("github.com/TarsCloud/TarsGo/tars/util/rogger.flushLog"))
}
