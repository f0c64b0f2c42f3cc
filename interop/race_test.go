//go:build race

package interop

// raceEnabled halves the differential tests' value counts under -race, which
// makes them several times slower, to keep the interop run bounded.
const raceEnabled = true
