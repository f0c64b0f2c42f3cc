package monitor_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/gotars/tars"
	"github.com/gotars/tars/monitor"
)

// listen serves srv on a free loopback port and returns the port and a
// function that stops it.
func listen(srv *tars.Server) (int, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	return ln.Addr().(*net.TCPAddr).Port, func() { srv.Shutdown(context.Background()) }
}

// A program that serves Echo and calls it, with its calls reported to a
// stat server (here a gotars one in the same process, printing what it
// gets).
func ExampleStatReporter() {
	ctx := context.Background()
	reports := make(chan monitor.ReportMicMsgArgs, 2)
	statSrv := tars.NewServer()
	tars.Handle(statSrv, monitor.StatObj, monitor.ReportMicMsg, func(_ context.Context, a monitor.ReportMicMsgArgs) (int32, error) {
		reports <- a
		return 0, nil
	})
	statPort, stopStat := listen(statSrv)
	defer stopStat()

	statClient, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", monitor.StatObj, statPort))
	defer statClient.Close()
	stats, err := monitor.NewStatReporter(statClient, monitor.StatOptions{
		Identity: monitor.Identity{App: "Test", Server: "EchoServer", LocalIP: "127.0.0.1"},
	})
	if err != nil {
		panic(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error)
	go func() { ran <- stats.Run(runCtx) }() // sends every 10 s, and once more at the end

	srv := tars.NewServer(tars.WithMiddleware(stats.Middleware))
	handleEcho(srv, nil)
	port, stop := listen(srv)
	defer stop()
	c, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", echoServant, port), tars.WithMiddleware(stats.Middleware))
	defer c.Close()
	for _, s := range []string{"a", "b", "c"} {
		echoOK.Call(ctx, c, textArgs{S: s})
	}
	echoFail.Call(ctx, c, textArgs{})

	stopRun() // the final send: calls made, then calls served
	<-ran
	for range 2 {
		a := <-reports
		var rows []string
		for h, b := range a.Msg {
			rows = append(rows, fmt.Sprintf("  %s -> %s.%s ret=%d count=%d exec=%d", h.MasterName, h.SlaveName, h.InterfaceName, h.ReturnValue, b.Count, b.ExecCount))
		}
		slices.Sort(rows)
		fmt.Printf("bFromClient=%v\n%s\n", a.FromClient, strings.Join(rows, "\n"))
	}
	// Output:
	// bFromClient=true
	//   Test.EchoServer -> Test.EchoServer.echo ret=0 count=3 exec=0
	//   Test.EchoServer -> Test.EchoServer.fail ret=2 count=0 exec=1
	// bFromClient=false
	//   stat_from_server -> Test.EchoServer.echo ret=0 count=3 exec=0
	//   stat_from_server -> Test.EchoServer.fail ret=2 count=0 exec=1
}

// A property with several policies, reported from anywhere and sent every
// interval (here at once, with Flush).
func ExamplePropertyReporter() {
	ctx := context.Background()
	reports := make(chan monitor.ReportPropMsgArgs, 1)
	propSrv := tars.NewServer()
	tars.Handle(propSrv, monitor.PropertyObj, monitor.ReportPropMsg, func(_ context.Context, a monitor.ReportPropMsgArgs) (int32, error) {
		reports <- a
		return 0, nil
	})
	port, stop := listen(propSrv)
	defer stop()
	propClient, _ := tars.NewClient(fmt.Sprintf("%s@tcp -h 127.0.0.1 -p %d", monitor.PropertyObj, port))
	defer propClient.Close()

	props, err := monitor.NewPropertyReporter(propClient, monitor.PropertyOptions{
		Identity: monitor.Identity{App: "Test", Server: "EchoServer", LocalIP: "127.0.0.1"},
	})
	if err != nil {
		panic(err)
	}
	queue, err := props.Property("queueLength", monitor.Sum(), monitor.Avg(), monitor.Max(), monitor.Distr(10, 100, 1000))
	if err != nil {
		panic(err)
	}
	for _, v := range []int64{3, 40, 70, 900} {
		queue.Report(v)
	}
	if err := props.Flush(ctx); err != nil { // Run does this every Interval
		panic(err)
	}
	for h, b := range (<-reports).Msg {
		fmt.Println(h.ModuleName, h.PropertyName, "iPropertyVer", h.IPropertyVer)
		for _, v := range b.VInfo {
			fmt.Printf("  %s = %s\n", v.Policy, v.Value)
		}
	}
	// Output:
	// Test.EchoServer queueLength iPropertyVer 2
	//   Sum = 1013
	//   Avg = 253.25
	//   Distr = 10|1,100|2,1000|1
	//   Max = 900
}
