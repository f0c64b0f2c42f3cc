package interop

import (
	"os"
	"path/filepath"

	tarsgo "github.com/TarsCloud/TarsGo/tars"
	"github.com/TarsCloud/TarsGo/tars/util/rogger"
)

func init() {
	// TarsGo reads its configuration on first use, from the -config flag
	// of os.Args unless ServerConfigPath is set; a path that does not exist
	// makes it a plain client and server with no stat or property reports.
	// Its logger (stdout) stays off, out of the benchmarks' output.
	tarsgo.ServerConfigPath = filepath.Join(os.TempDir(), "gotars-tarsotel-interop-no-tarsgo-config.conf")
	rogger.SetLevel(rogger.OFF)
}
