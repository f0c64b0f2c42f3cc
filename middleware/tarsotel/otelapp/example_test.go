package otelapp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/app"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/middleware/tarsotel/otelapp"
)

// An application whose configuration asks for /metrics and stdout traces
// (in a program the tree comes from its file: observability.metrics_address,
// trace_exporter, trace_sample_ratio).
func Example() {
	cfg := config.Default()
	cfg.Servants = map[string]config.Servant{userapi.Servant: {Endpoint: "tcp -h 127.0.0.1 -p 0 -t 60000"}}
	cfg.Observability.MetricsAddress = "127.0.0.1:0"
	cfg.Observability.TraceExporter = "stdout"
	cfg.Observability.TraceSampleRatio = 1

	var spans bytes.Buffer // os.Stdout by default
	tel, err := otelapp.New(cfg, otelapp.WithTraceWriter(&spans))
	if err != nil {
		panic(err) // a *app.UsageError naming the key
	}
	a, err := app.New(cfg, append(tel.AppOptions(), app.WithLogWriter(io.Discard))...)
	if err != nil {
		panic(err)
	}
	tars.Handle(a.Server(), userapi.Servant, userapi.GetUser, func(_ context.Context, args userapi.UserIDArgs) (userapi.UserInfo, error) {
		return userapi.UserInfo{UserID: args.UserID, UserName: "ada"}, nil
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	<-a.Ready()
	<-tel.MetricsListening()

	c, err := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", userapi.Servant, a.Addr(userapi.Servant).(*net.TCPAddr).Port))
	if err != nil {
		panic(err)
	}
	if _, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: 7}); err != nil {
		panic(err)
	}
	c.Close()

	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + tel.MetricsAddr().String() + otelapp.MetricsPath)
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "rpc_server_call_duration_seconds_count{") {
			fmt.Println("calls:", sc.Text()[strings.LastIndexByte(sc.Text(), ' ')+1:])
		}
	}
	resp.Body.Close()
	hc.CloseIdleConnections()

	stop()
	if err := <-done; err != nil {
		panic(err)
	}
	if err := tel.Shutdown(context.Background()); err != nil { // flushes the spans
		panic(err)
	}
	fmt.Println("span:", strings.Contains(spans.String(), `"Name":"UserService.UserServiceObj/getUser"`))
	// Output:
	// calls: 1
	// span: true
}
