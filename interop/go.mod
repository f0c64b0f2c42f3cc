module github.com/gotars/tars/interop

go 1.26

replace github.com/gotars/tars => ../

require (
	github.com/TarsCloud/TarsGo v1.4.6
	github.com/gotars/tars v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/TarsCloud/TarsGo/tars/tools/tars2go v1.2.4 // indirect
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	go.uber.org/automaxprocs v1.5.2 // indirect
	golang.org/x/perf v0.0.0-20250813145418-2f7363a06fe1 // indirect
)

tool (
	github.com/TarsCloud/TarsGo/tars/tools/tars2go
	golang.org/x/perf/cmd/benchstat
)
