package transport_test

import (
	"fmt"

	"github.com/gotars/tars/transport"
)

func ExampleParseObject() {
	servant, addrs, err := transport.ParseObject("Test.HelloServer.HelloObj@tcp -h 127.0.0.1 -p 18015 -t 3000:udp -h 10.0.0.2 -p 18016")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(servant)
	for _, a := range addrs {
		fmt.Println(a.Network, a.HostPort(), a.Timeout)
	}
	_, _, err = transport.ParseObject("Test.HelloServer.HelloObj@tcp -h 127.0.0.1 -p 18015 -q 1")
	fmt.Println(err)
	// Output:
	// Test.HelloServer.HelloObj
	// tcp 127.0.0.1:18015 3s
	// udp 10.0.0.2:18016 0s
	// transport: bad TARS endpoint "tcp -h 127.0.0.1 -p 18015 -q 1": unknown option -q
}
