// Package app runs a gotars application from its configuration (package
// config): one value, built by New from a config.Config, that composes the
// public constructors of the other packages — tars.NewServer and
// tars.NewClient with config's options, the TARS registry resolver
// (discovery/tarsregistry), the TARS stat and property reporters (monitor)
// and, under tarsnode, platform's AdminObj, keepAlive and remote config —
// and runs them all under one Run(ctx).
//
//	cfg, err := loader.Load()                    // config/koanf: defaults → file → env → flags
//	a, err := app.New(cfg, app.WithWatch(&loader))
//	userserver.Register(a.Server(), userapi.Servant, store)
//	err = a.Run(ctx)                             // until ctx ends or AdminF shutdown
//
// A program can still build every piece by hand; the runner adds nothing
// the public constructors lack. Hooks let it add its own: middleware
// (WithServerMiddleware, WithClientMiddleware), client options built from
// the configuration (WithClientOptions: breakers, retries), a resolver
// (WithResolver: Consul's), admin commands (WithAdminCommand) and
// background work (WithTask: a registrar). What it builds, from which keys
// (README.md lists them all, and those it does not honour yet):
//
//   - One tars.Server (Server) with config.ServerOptions, the stat
//     middleware and the program's (WithServerMiddleware), listening on every
//     servant's endpoint (servants.<s>.endpoint: tcp, ssl with the servant's
//     or the server's TLS files, udp). The program registers its handlers on
//     it before Run.
//   - Clients (Client), on first use: config.ClientOptions, the balancer
//     (client.balancer, client.objects.<o>.balancer), the per-method
//     timeouts (client.objects.<o>.methods.<m>.timeout), the set
//     (client.set_division), static endpoints (client.objects.<o>.endpoints)
//     or else the resolver: the TARS registry of client.locator, or the
//     program's (WithResolver; Consul's resolver lives in its own module).
//   - Under tarsnode (server.node set): keepAlive to tarsnode's ServerF —
//     adapter "" at start, then every server.tars.main_loop_ticker (TarsGo's
//     mainloopticker, 10 s) one per adapter and "AdminAdapter", but none
//     for an adapter stuck for server.tars.zombie_timeout (all its
//     max_invoke handlers busy, none started: TarsGo's zombie rule) — and
//     reportVersion once.
//   - With server.local set: AdminObj on that endpoint (platform.Admin):
//     shutdown stops Run gracefully; notify answers tars.setloglevel (the
//     level of Logger), tars.viewversion, tars.viewstatus, tars.connection,
//     tars.loadconfig (through server.config_obj), tars.dumpstack, tars.help
//     and the program's commands (WithAdminCommand).
//   - With server.config_obj set: the files WithConfigFiles names are pulled
//     from tarsconfig into server.base_path before the servants listen.
//   - With observability.stat_obj / property_obj set: the stat reporter
//     (on the server and every client) and the property reporter
//     (Properties), every observability.stat_interval / property_interval.
//   - Its log: at log.level, to log.path/<app>/<server>/<app>.<server>.log
//     rolled at log.size with log.num files kept (TarsGo's layout, LogFile),
//     or to stderr.
//   - With WithRemoteLog and server.log_obj set: remote log files sent to
//     tarslog (platform.RemoteLog; RemoteLog returns the writer).
//   - With WithWatch: hot reload. log.level applies live, changed client
//     timeouts, balancers, method policies and endpoint lists rebuild the
//     clients built so far (Client returns the new ones; the old ones close
//     once their calls had time to finish); every other changed key is
//     logged as needing a restart.
//
// # Lifetime
//
// New checks the configuration and builds values; it starts nothing,
// listens on nothing and dials nothing. Run does the rest and, when ctx
// ends or AdminF shutdown is called (or Stop), stops the keepAlives,
// shuts the server down gracefully within server.grace_timeout, stops the
// AdminObj, sends the reporters' last reports, closes every client, and
// returns once every goroutine it started has ended.
//
// # Exit codes
//
// Main (and ExitCode) give a program clear exit codes:
//
//	0  a clean stop: SIGTERM, SIGINT, AdminF shutdown, or -h
//	1  a failure while running: a listener that could not bind, a remote
//	   config file that could not be pulled, a shutdown that outlived its grace
//	2  a bad configuration or command line (a *UsageError), found before
//	   anything started
package app
