module github.com/gotars/tars

go 1.26

require (
	github.com/sony/gobreaker/v2 v2.4.0
	go.uber.org/dig v1.19.0
	go.uber.org/goleak v1.3.0
	go.yaml.in/yaml/v3 v3.0.3
	golang.org/x/time v0.15.0
	golang.org/x/tools v0.49.0
)

require (
	github.com/kr/text v0.2.0 // indirect
	golang.org/x/mod v0.39.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
