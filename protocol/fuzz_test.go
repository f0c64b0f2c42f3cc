package protocol

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/gotars/tars/codec"
)

// The seed corpus: the golden packets (as frames), plus the checked-in
// corpus under testdata/fuzz.
func addPacketSeeds(f *testing.F) {
	for _, c := range requestGolden {
		f.Add(AppendRequest(nil, &c.pkt))
	}
	for _, c := range responseGolden {
		f.Add(AppendResponse(nil, &c.pkt))
	}
	f.Add([]byte{0, 0, 0, 4})
}

// checkDecodeErr: every decoding failure is typed.
func checkDecodeErr(t *testing.T, err error) {
	var ce *codec.Error
	var fe *FrameError
	if err != nil && !errors.As(err, &ce) && !errors.As(err, &fe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// FuzzDecodeRequest: no input panics; what decodes re-encodes to a packet
// that decodes to the same thing.
func FuzzDecodeRequest(f *testing.F) {
	addPacketSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p RequestPacket
		err := DecodeRequest(frame, &p)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		again := AppendRequest(nil, &p)
		var q RequestPacket
		if err := DecodeRequest(again, &q); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !bytes.Equal(AppendRequest(nil, &q), again) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzDecodeResponse: as FuzzDecodeRequest, for responses (including TUP
// answers in the RequestPacket layout).
func FuzzDecodeResponse(f *testing.F) {
	addPacketSeeds(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p ResponsePacket
		err := DecodeResponse(frame, &p)
		checkDecodeErr(t, err)
		if err != nil || p.Version == VersionTUP {
			return
		}
		again := AppendResponse(nil, &p)
		var q ResponsePacket
		if err := DecodeResponse(again, &q); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !bytes.Equal(AppendResponse(nil, &q), again) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzDecodeTUP: no input panics; decoding allocates no more than its
// budget (twice the input, plus a little for the Reader and an error); a
// decoded map re-encodes and decodes to the same map.
func FuzzDecodeTUP(f *testing.F) {
	f.Add(unhex(f, tupGolden))
	f.Add([]byte{0x08, 0x0c})
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x00, 0x03, 0x06, 0x00, 0x19, 0x00, 0x01, 0x0c, 0x06, 0x00, 0x1d, 0x00, 0x0c, 0x06, 0x01, 'a', 0x1d, 0x00, 0x0c})
	// The intern table copies itself on each new key until it is full
	// (a cost bounded over the process's life, not per input): fill it,
	// and leave it as other tests expect it afterwards.
	saved := internTab.Load()
	f.Cleanup(func() { internTab.Store(saved) })
	for i := 0; i < internMaxEntries; i++ {
		intern([]byte("fuzz-key-" + strconv.Itoa(i)))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var r codec.Reader
		r.Reset(in)
		r.SetBudget(2 * len(in))
		_, errTight := DecodeTUPFrom(&r)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(2*len(in)+4<<10) {
			t.Fatalf("%d bytes allocated for %d bytes of input, budget %d (%v)", alloc, len(in), 2*len(in), errTight)
		}
		checkDecodeErr(t, errTight)
		m, err := DecodeTUP(in)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		var w codec.Writer
		EncodeTUP(&w, m)
		m2, err := DecodeTUP(w.Bytes())
		if err != nil {
			t.Fatalf("re-encoded UniAttribute does not decode: %v", err)
		}
		if len(m2) != len(m) {
			t.Fatalf("%d entries became %d", len(m), len(m2))
		}
		for k, v := range m {
			if !bytes.Equal(m2[k], v) {
				t.Fatalf("entry %q changed", k)
			}
		}
	})
}

// FuzzSplitFrame: SplitFrame and FrameReader agree on any byte stream, and
// neither returns a frame outside the limits.
func FuzzSplitFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 5, 1}, 0)
	f.Add([]byte{0, 0, 0, 3}, 0)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, 100)
	f.Add(append(AppendRequest(nil, &requestGolden[1].pkt), AppendRequest(nil, &requestGolden[0].pkt)...), 64)
	f.Fuzz(func(t *testing.T, in []byte, maxLen int) {
		var want [][]byte
		var wantErr error
		for rest := in; ; {
			n, err := SplitFrame(rest, maxLen)
			if err != nil {
				wantErr = err
				break
			}
			if n == 0 {
				break
			}
			if n < 4 || n > len(rest) || (maxLen > 0 && n > maxLen) || n > DefaultMaxPacket && maxLen <= 0 {
				t.Fatalf("SplitFrame returned %d for %d bytes, max %d", n, len(rest), maxLen)
			}
			want = append(want, rest[:n])
			rest = rest[n:]
		}
		fr := NewFrameReader(bytes.NewReader(in), maxLen)
		for i, w := range want {
			got, err := fr.Next()
			if err != nil || !bytes.Equal(got, w) {
				t.Fatalf("frame %d: FrameReader gave %x, %v; SplitFrame %x", i, got, err, w)
			}
		}
		_, err := fr.Next()
		if wantErr != nil {
			if !errors.Is(err, errors.Unwrap(wantErr)) {
				t.Fatalf("FrameReader error %v, SplitFrame %v", err, wantErr)
			}
		} else if err == nil {
			t.Fatal("FrameReader found a frame SplitFrame did not")
		}
	})
}
