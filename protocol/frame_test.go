package protocol

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestSplitFrame(t *testing.T) {
	cases := []struct {
		name string
		buf  []byte
		max  int
		n    int
		err  error
	}{
		{"empty", nil, 0, 0, nil},
		{"partial_prefix", []byte{0, 0, 0}, 0, 0, nil},
		{"prefix_only_frame", []byte{0, 0, 0, 4}, 0, 4, nil},
		{"prefix_only_frame_more", []byte{0, 0, 0, 4, 9, 9}, 0, 4, nil},
		{"incomplete", []byte{0, 0, 0, 6, 1}, 0, 0, nil},
		{"complete", []byte{0, 0, 0, 6, 1, 2, 3}, 0, 6, nil},
		{"too_short_0", []byte{0, 0, 0, 0}, 0, 0, ErrFrameTooShort},
		{"too_short_3", []byte{0, 0, 0, 3, 1, 2, 3}, 0, 0, ErrFrameTooShort},
		{"at_default_max", []byte{0, 0xa0, 0, 0}, 0, 0, nil}, // 10485760: allowed, incomplete
		{"over_default_max", []byte{0, 0xa0, 0, 1}, 0, 0, ErrFrameTooLarge},
		{"over_custom_max", []byte{0, 0, 0, 9}, 8, 0, ErrFrameTooLarge},
		{"at_custom_max", []byte{0, 0, 0, 8, 1, 2, 3, 4}, 8, 8, nil},
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, 0, 0, ErrFrameTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := SplitFrame(c.buf, c.max)
			if n != c.n || !errors.Is(err, c.err) {
				t.Fatalf("SplitFrame = %d, %v; want %d, %v", n, err, c.n, c.err)
			}
			if err != nil {
				var fe *FrameError
				if !errors.As(err, &fe) || fe.Error() == "" {
					t.Fatalf("error %T is not a *FrameError", err)
				}
			}
		})
	}
}

func TestDecodeFrameLength(t *testing.T) {
	frame := AppendRequest(nil, &RequestPacket{Version: 1})
	var p RequestPacket
	for _, bad := range [][]byte{nil, frame[:3], frame[:len(frame)-1], append(frame[:len(frame):len(frame)], 0)} {
		err := DecodeRequest(bad, &p)
		if !errors.Is(err, ErrFrameLength) && !errors.Is(err, ErrFrameTooShort) {
			t.Errorf("DecodeRequest(%x) = %v", bad, err)
		}
		var r ResponsePacket
		if err := DecodeResponse(bad, &r); err == nil {
			t.Errorf("DecodeResponse(%x) accepted a bad frame", bad)
		}
	}
}

// stream returns n request frames and their concatenation; sizes vary from
// tiny to larger than the FrameReader's initial and retained buffer.
func stream(n int, rng *rand.Rand) ([][]byte, []byte) {
	var frames [][]byte
	var all []byte
	for i := range n {
		size := rng.IntN(200)
		switch i % 7 {
		case 3:
			size = frameBufMin + rng.IntN(100)
		case 5:
			size = frameBufKeep + rng.IntN(1000)
		}
		f := AppendRequest(nil, &RequestPacket{Version: 1, RequestID: int32(i), Buffer: bytes.Repeat([]byte{byte(i)}, size)})
		frames = append(frames, f)
		all = append(all, f...)
	}
	return frames, all
}

func TestFrameReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	frames, all := stream(40, rng)
	readers := map[string]func() io.Reader{
		"whole":      func() io.Reader { return bytes.NewReader(all) },
		"one_byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(all)) },
		"half":       func() io.Reader { return iotest.HalfReader(bytes.NewReader(all)) },
		"data_err":   func() io.Reader { return iotest.DataErrReader(bytes.NewReader(all)) },
		"random_cut": func() io.Reader { return &chunkReader{b: all, rng: rand.New(rand.NewPCG(3, 4))} },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			fr := NewFrameReader(mk(), 0)
			for i, want := range frames {
				got, err := fr.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("frame %d differs (%d vs %d bytes)", i, len(got), len(want))
				}
				var p RequestPacket
				if err := DecodeRequest(got, &p); err != nil || p.RequestID != int32(i) {
					t.Fatalf("frame %d decodes to id %d, %v", i, p.RequestID, err)
				}
			}
			if _, err := fr.Next(); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
			if cap(fr.buf) > 2*frameBufKeep+1000 {
				t.Fatalf("buffer kept %d bytes", cap(fr.buf))
			}
		})
	}
}

type chunkReader struct {
	b   []byte
	rng *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), 1+c.rng.IntN(3000), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestFrameReaderErrors(t *testing.T) {
	frame := AppendRequest(nil, &RequestPacket{Version: 1, Buffer: make([]byte, 50)})
	cases := []struct {
		name string
		in   []byte
		max  int
		err  error
	}{
		{"eof", nil, 0, io.EOF},
		{"cut_prefix", frame[:2], 0, io.ErrUnexpectedEOF},
		{"cut_body", frame[:20], 0, io.ErrUnexpectedEOF},
		{"too_short", []byte{0, 0, 0, 2, 1, 1}, 0, ErrFrameTooShort},
		{"too_large", frame, 20, ErrFrameTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(c.in), c.max).Next()
			if !errors.Is(err, c.err) {
				t.Fatalf("Next: %v, want %v", err, c.err)
			}
			_, err = ReadFrame(bytes.NewReader(c.in), nil, c.max)
			if !errors.Is(err, c.err) {
				t.Fatalf("ReadFrame: %v, want %v", err, c.err)
			}
		})
	}
	// A reader that never makes progress.
	if _, err := NewFrameReader(zeroReader{}, 0).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("zero reader: %v", err)
	}
	// Reset drops what is buffered.
	fr := NewFrameReader(bytes.NewReader(append(frame, frame[:10]...)), 0)
	if _, err := fr.Next(); err != nil {
		t.Fatal(err)
	}
	if fr.Buffered() != 10 {
		t.Fatalf("Buffered = %d", fr.Buffered())
	}
	fr.Reset(bytes.NewReader(frame))
	if got, err := fr.Next(); err != nil || !bytes.Equal(got, frame) {
		t.Fatalf("after Reset: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReadFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	frames, all := stream(20, rng)
	r := iotest.HalfReader(bytes.NewReader(all))
	var buf []byte
	for i, want := range frames {
		got, err := ReadFrame(r, buf, 0)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %v", i, err)
		}
		buf = got
	}
	if _, err := ReadFrame(r, buf, 0); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

func TestFrameReaderAllocs(t *testing.T) {
	frame := AppendRequest(nil, &RequestPacket{Version: 1, Buffer: make([]byte, 100)})
	all := bytes.Repeat(frame, 1000)
	br := bytes.NewReader(all)
	fr := NewFrameReader(br, 0)
	fr.Next()
	if n := testing.AllocsPerRun(500, func() {
		if _, err := fr.Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("FrameReader.Next: %v allocations", n)
	}
}

// TestClaimedLengthCostsNothing: a prefix that claims the maximum but is
// followed by a few bytes does not make either reader allocate the maximum.
func TestClaimedLengthCostsNothing(t *testing.T) {
	in := append([]byte{0, 0xa0, 0, 0}, make([]byte, 100)...) // claims 10 MiB, has 104 bytes
	fr := NewFrameReader(bytes.NewReader(in), 0)
	if _, err := fr.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("Next: %v", err)
	}
	if cap(fr.buf) > frameBufMin {
		t.Fatalf("FrameReader allocated %d bytes for a 104-byte stream", cap(fr.buf))
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	if _, err := ReadFrame(bytes.NewReader(in), nil, 0); err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadFrame: %v", err)
	}
	runtime.ReadMemStats(&ms1)
	if d := ms1.TotalAlloc - ms0.TotalAlloc; d > 1<<20 {
		t.Fatalf("ReadFrame allocated %d bytes for a 104-byte stream", d)
	}
}
