module github.com/gotars/tars

go 1.26
