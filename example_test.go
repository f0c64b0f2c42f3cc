package tars_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/gotars/tars"
)

// Greeting is a TARS struct: its fields carry their TARS tags.
type Greeting struct {
	Text  string `tars:"0,name=text"`
	Count int32  `tars:"1,name=count"`
}

// HelloArgs lists the in parameters of hello: tags 1..n.
type HelloArgs struct {
	Name string `tars:"1,name=name"`
}

// The service and its endpoint are declared once, at package level:
// Greeting hello(string name).
var (
	helloService = tars.NewService("Hello")
	hello        = tars.NewEndpoint[HelloArgs, Greeting](helloService, "hello")
)

// A server and a client in one program: the code-first way to serve and call
// a TARS method.
func Example() {
	srv := tars.NewServer()
	tars.Handle(srv, "Demo.HelloServer.HelloObj", hello, func(ctx context.Context, a HelloArgs) (Greeting, error) {
		if a.Name == "" {
			return Greeting{}, tars.Errorf(1, "who are you?")
		}
		return Greeting{Text: "hello, " + a.Name, Count: 1}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	obj := fmt.Sprintf("Demo.HelloServer.HelloObj@tcp -h 127.0.0.1 -p %d", ln.Addr().(*net.TCPAddr).Port)
	client, err := tars.NewClient(obj)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	g, err := hello.Call(context.Background(), client, HelloArgs{Name: "tars"})
	fmt.Println(g.Text, g.Count, err)

	_, err = hello.Call(context.Background(), client, HelloArgs{})
	var te *tars.Error
	if errors.As(err, &te) {
		fmt.Println("code", int32(te.Code), te.Message)
	}
	// Output:
	// hello, tars 1 <nil>
	// code 1 who are you?
}

// CreateArgs and CreateResults describe `int create(Greeting g, out Greeting stored)`:
// the return value at tag 0 and the out parameter after the one in parameter.
type CreateArgs struct {
	G Greeting `tars:"1,name=g"`
}

// CreateResults embeds tars.Results: its fields are the results.
type CreateResults struct {
	tars.Results
	Ret    int32    `tars:"0"`
	Stored Greeting `tars:"2,name=stored"`
}

func ExampleNewEndpoint() {
	svc := tars.NewService("Store")
	create := tars.NewEndpoint[CreateArgs, CreateResults](svc, "create")
	info := create.Info()
	fmt.Println(info.Name, "returns", info.Return)
	for _, p := range info.In {
		fmt.Println("in", p.Tag, p.Name, p.Type)
	}
	for _, p := range info.Out {
		fmt.Println("out", p.Tag, p.Name, p.Type)
	}
	// Output:
	// create returns int32
	// in 1 g tars_test.Greeting
	// out 2 stored tars_test.Greeting
}
