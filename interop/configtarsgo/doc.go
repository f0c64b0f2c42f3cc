// Package configtarsgo proves that package config reads a TARS-native file
// as TarsGo v1.4.6 does: TarsGo's own parser (tars/util/conf) and TarsGo's
// application (GetServerConfig, GetClientConfig) against config.ParseTars and
// config.ReadTars, on the samples in config/testdata and on generated files.
//
// The package has no API; it lives in the interop module so that the root
// module never depends on TarsGo.
package configtarsgo
