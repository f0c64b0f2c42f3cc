package protocol

import (
	"strconv"
	"sync"
	"testing"
)

func TestInternConcurrentAndBounded(t *testing.T) {
	saved := internTab.Load()
	defer internTab.Store(saved) // leave the table as other tests expect it
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 * internMaxEntries {
				name := "svc" + strconv.Itoa(g) + "." + strconv.Itoa(i)
				frame := AppendRequest(nil, &RequestPacket{ServantName: name, FuncName: "f"})
				var p RequestPacket
				if err := DecodeRequest(frame, &p); err != nil || p.ServantName != name {
					t.Errorf("decoded %q, %v", p.ServantName, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(*internTab.Load()); n > internMaxEntries {
		t.Fatalf("intern table holds %d entries", n)
	}
	long := make([]byte, internMaxLen+1)
	if s := intern(long); len(s) != len(long) {
		t.Fatal("long string")
	}
}
