module github.com/gotars/tars/stress

go 1.26

replace github.com/gotars/tars => ../

require (
	github.com/gotars/tars v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)
