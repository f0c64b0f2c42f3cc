package protocol

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"github.com/gotars/tars/codec"
)

// DefaultMaxPacket is the largest frame accepted unless told otherwise:
// 10 MiB, TarsGo's default.
const DefaultMaxPacket = 10485760

// headerLen is the size of the length prefix.
const headerLen = 4

// Framing errors. A stream that produces one cannot be resynchronised: the
// connection should be closed.
var (
	// ErrFrameTooShort: a length prefix below 4, or a frame shorter than its prefix.
	ErrFrameTooShort = errors.New("tars: frame length below 4")
	// ErrFrameTooLarge: a length prefix above the maximum packet size.
	ErrFrameTooLarge = errors.New("tars: frame too large")
	// ErrFrameLength: the length prefix does not match the frame handed to a decoder.
	ErrFrameLength = errors.New("tars: frame length does not match its prefix")
)

// FrameError is the error for a bad frame: it wraps one of the Err* framing
// sentinels and gives the length found and the limit in force.
type FrameError struct {
	Err    error // ErrFrameTooShort, ErrFrameTooLarge or ErrFrameLength
	Length uint32
	Max    int // the maximum in force (ErrFrameTooLarge), or the frame's size (ErrFrameLength)
}

// Error describes the bad frame.
func (e *FrameError) Error() string {
	s := e.Err.Error() + ": length " + strconv.FormatUint(uint64(e.Length), 10)
	switch e.Err {
	case ErrFrameTooLarge:
		s += ", max " + strconv.Itoa(e.Max)
	case ErrFrameLength:
		s += ", frame has " + strconv.Itoa(e.Max) + " bytes"
	}
	return s
}

// Unwrap returns the sentinel, for errors.Is.
func (e *FrameError) Unwrap() error { return e.Err }

// AppendRequest appends p as a whole frame, length prefix included, to dst
// and returns the extended slice. It allocates nothing beyond growing dst;
// the caller checks the result against its maximum packet size if it has one.
func AppendRequest(dst []byte, p *RequestPacket) []byte {
	var w codec.Writer
	start := len(dst)
	w.SetBytes(append(dst, 0, 0, 0, 0))
	p.Encode(&w)
	return patchLength(w.Bytes(), start)
}

// AppendResponse appends p as a whole frame, length prefix included, to dst
// and returns the extended slice. It does not switch to the TUP layout by
// itself; AppendReply does.
func AppendResponse(dst []byte, p *ResponsePacket) []byte {
	var w codec.Writer
	start := len(dst)
	w.SetBytes(append(dst, 0, 0, 0, 0))
	p.Encode(&w)
	return patchLength(w.Bytes(), start)
}

// AppendReply appends the frame that answers req with resp: resp itself, or,
// when req is a TUP (version 3) request, the RequestPacket layout that TUP
// clients expect (see TUPResponse). It is what a server calls for every
// answer.
func AppendReply(dst []byte, req *RequestPacket, resp *ResponsePacket) []byte {
	if req.Version == VersionTUP {
		tup := TUPResponse(req, resp)
		return AppendRequest(dst, &tup)
	}
	return AppendResponse(dst, resp)
}

func patchLength(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// DecodeRequest decodes the frame (length prefix included, as SplitFrame,
// FrameReader and ReadFrame return it) into p. The prefix must equal
// len(frame). p.Buffer aliases frame; see RequestPacket.Decode.
func DecodeRequest(frame []byte, p *RequestPacket) error {
	body, err := frameBody(frame)
	if err != nil {
		return err
	}
	var r codec.Reader
	r.Reset(body)
	return p.Decode(&r)
}

// DecodeResponse decodes the frame (length prefix included) into p. The
// prefix must equal len(frame). p.Buffer aliases frame; a TUP frame (in the
// RequestPacket layout) is mapped onto p; see ResponsePacket.Decode.
func DecodeResponse(frame []byte, p *ResponsePacket) error {
	body, err := frameBody(frame)
	if err != nil {
		return err
	}
	var r codec.Reader
	r.Reset(body)
	return p.Decode(&r)
}

func frameBody(frame []byte) ([]byte, error) {
	if len(frame) < headerLen {
		return nil, &FrameError{Err: ErrFrameTooShort, Length: uint32(len(frame))}
	}
	n := binary.BigEndian.Uint32(frame)
	if uint64(n) != uint64(len(frame)) {
		return nil, &FrameError{Err: ErrFrameLength, Length: n, Max: len(frame)}
	}
	return frame[headerLen:], nil
}

// SplitFrame reports the length of the frame at the start of buf, for stream
// parsers: 0 with a nil error when buf does not hold a whole frame yet, or
// a *FrameError (ErrFrameTooShort, ErrFrameTooLarge) as soon as the prefix
// shows the frame is bad. maxLen ≤ 0 means DefaultMaxPacket. The frame is
// buf[:frameLen].
func SplitFrame(buf []byte, maxLen int) (frameLen int, err error) {
	if len(buf) < headerLen {
		return 0, nil
	}
	n, err := checkLength(binary.BigEndian.Uint32(buf), maxLen)
	if err != nil || len(buf) < n {
		return 0, err
	}
	return n, nil
}

// FrameLen reports the length that the frame at the start of buf declares,
// whether or not all of it is there yet: 0 with a nil error when buf holds
// fewer than 4 bytes, a *FrameError when the length is below 4 or above
// maxLen (≤ 0 means DefaultMaxPacket). Stream readers use it to know how
// much to wait for.
func FrameLen(buf []byte, maxLen int) (int, error) {
	if len(buf) < headerLen {
		return 0, nil
	}
	return checkLength(binary.BigEndian.Uint32(buf), maxLen)
}

func checkLength(n uint32, maxLen int) (int, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxPacket
	}
	if n < headerLen {
		return 0, &FrameError{Err: ErrFrameTooShort, Length: n}
	}
	if uint64(n) > uint64(maxLen) {
		return 0, &FrameError{Err: ErrFrameTooLarge, Length: n, Max: maxLen}
	}
	return int(n), nil
}

// ReadFrame reads exactly one frame from r into buf (reusing its capacity,
// growing it as needed) and returns it, length prefix included. maxLen ≤ 0
// means DefaultMaxPacket. It reads no further than the frame, so the frame
// is the caller's to keep; FrameReader reads ahead and makes fewer calls to
// r. An r that ends before the first byte gives io.EOF; one that ends inside
// a frame gives io.ErrUnexpectedEOF. Memory grows with the bytes that
// arrive, not with the length the prefix claims.
func ReadFrame(r io.Reader, buf []byte, maxLen int) ([]byte, error) {
	buf = append(buf[:0], 0, 0, 0, 0)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n, err := checkLength(binary.BigEndian.Uint32(buf), maxLen)
	if err != nil {
		return nil, err
	}
	for len(buf) < n {
		// Read into the capacity there is, doubling it when it runs out.
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, max(2*cap(buf), frameBufMin)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return buf, nil
}

// FrameReader reads frames from a stream with one reusable buffer, reading
// ahead so that several small frames cost one Read. It is not safe for
// concurrent use.
type FrameReader struct {
	r      io.Reader
	max    int
	buf    []byte
	start  int // first unconsumed byte
	end    int // end of the bytes read
	minBuf int
}

// Buffer sizes of a FrameReader: it starts at frameBufMin and, once a frame
// larger than frameBufKeep has been consumed and nothing is left buffered,
// drops back to frameBufMin so that one large frame does not pin memory.
const (
	frameBufMin  = 4096
	frameBufKeep = 64 << 10
)

// NewFrameReader returns a FrameReader that reads frames of at most maxLen
// bytes (maxLen ≤ 0 means DefaultMaxPacket) from r. Its buffer is allocated
// on the first call to Next.
func NewFrameReader(r io.Reader, maxLen int) *FrameReader {
	if maxLen <= 0 {
		maxLen = DefaultMaxPacket
	}
	return &FrameReader{r: r, max: maxLen, minBuf: frameBufMin}
}

// Reset makes f read from r, dropping anything buffered and keeping its
// buffer and maximum.
func (f *FrameReader) Reset(r io.Reader) {
	f.r, f.start, f.end = r, 0, 0
}

// Buffered returns the number of bytes read from the stream but not yet
// returned as frames.
func (f *FrameReader) Buffered() int { return f.end - f.start }

// Next returns the next frame, length prefix included. The frame aliases
// f's buffer and is valid only until the next call to Next or Reset: decode
// it (or copy it) before asking for the next one. At the end of the stream
// Next returns io.EOF if no partial frame was pending and
// io.ErrUnexpectedEOF otherwise; a bad length prefix gives a *FrameError,
// after which the stream cannot be resynchronised.
func (f *FrameReader) Next() ([]byte, error) {
	for {
		avail := f.buf[f.start:f.end]
		if len(avail) >= headerLen {
			n, err := checkLength(binary.BigEndian.Uint32(avail), f.max)
			if err != nil {
				return nil, err
			}
			if len(avail) >= n {
				f.start += n
				return avail[:n:n], nil
			}
			f.makeRoom(n)
		} else {
			f.makeRoom(headerLen)
		}
		if err := f.fill(); err != nil {
			return nil, err
		}
	}
}

// makeRoom makes room to read towards a frame of need bytes starting at
// f.start: it moves the pending bytes to the front, grows the buffer, or lets
// a large one go. The buffer grows only when it is full of pending bytes, and
// at most twofold, so memory follows the bytes that actually arrive, not the
// length a prefix claims.
func (f *FrameReader) makeRoom(need int) {
	pending := f.end - f.start
	if pending == 0 {
		f.start, f.end = 0, 0
		if cap(f.buf) > frameBufKeep {
			f.buf = nil // let a large buffer go
		}
	}
	if f.buf == nil {
		f.buf = make([]byte, f.minBuf)
	}
	if f.start+need <= len(f.buf) {
		return // the frame fits where it is
	}
	if f.start > 0 {
		copy(f.buf, f.buf[f.start:f.end])
		f.start, f.end = 0, pending
	}
	if f.end < len(f.buf) {
		return // room left to read into
	}
	nb := make([]byte, min(need, 2*len(f.buf)))
	copy(nb, f.buf[:f.end])
	f.buf = nb
}

// fill reads once into the free space after f.end.
func (f *FrameReader) fill() error {
	for range 100 { // io.Reader allows (0, nil); do not spin forever on it
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF && f.end > f.start {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}
