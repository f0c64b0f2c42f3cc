// Package platform runs a gotars server under the TARS platform, where
// tarsnode starts it with --config=FILE and expects it to take part:
//
//   - Admin serves AdminObj (AdminF) on the server<local> endpoint:
//     shutdown, which tarsnode calls to stop the server, and notify, the
//     commands tarsweb sends (tars.viewversion, tars.setloglevel,
//     tars.viewstatus, tars.connection, tars.loadconfig, tars.dumpstack,
//     tars.help and the program's own), answered as TarsGo answers them.
//   - KeepAlive calls tarsnode's ServerF (server<node>): reportVersion
//     once, keepAlive at start and every 10 s for each adapter, without
//     which tarsnode takes the server for a zombie and kills it.
//   - RemoteConfig pulls config files from tarsconfig (server<config>)
//     into server<basepath>, at start and on tars.loadconfig.
//   - RemoteLog is an io.Writer (under a slog handler, say) sending lines
//     to tarslog (server<log>) in batches.
//
// The interfaces are declared code-first (AdminF, ServerF, ConfigF, LogF)
// and may be served with tars.Handle as well as called. Nothing here starts a
// goroutine, reads a file or parses a flag on its own: constructors start
// nothing, KeepAlive and RemoteLog work under Run(ctx), Admin starts one
// goroutine only for the program's Shutdown function, and the program (or
// a runner built on this package) wires the pieces from its configuration.
//
// The facts these follow — TarsGo v1.4.6's tars/admin.go, nodef.go,
// rconfig.go and application.go, TarsCpp's Application.cpp,
// KeepAliveNodeF.cpp and RemoteConfig.cpp, tarsnode's ServerObject.cpp —
// are collected in the project's PLATFORM.md §4, §5, §7.3 and §8; where
// TarsCpp differs from TarsGo the doc comments say so.
package platform
