package interop

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/TarsCloud/TarsGo/tars/protocol/codec"

	"github.com/TarsCloud/TarsGo/tars/protocol/res/statf"
	gtcodec "github.com/gotars/tars/codec"
	"github.com/gotars/tars/codec/reflectcodec"
	"github.com/gotars/tars/interop/corpus"
	gen "github.com/gotars/tars/interop/gen/Corpus"
	genuser "github.com/gotars/tars/interop/gen/UserService"
)

// benchUser is the seed's UserInfo with 5 tags and 5 metadata entries.
func benchUser(id int32) corpus.UserInfo {
	return corpus.UserInfo{
		UserID:     id,
		UserName:   fmt.Sprintf("user-%05d", id),
		Email:      fmt.Sprintf("user-%05d@example.com", id),
		Age:        20 + id%50,
		CreateTime: "2024-01-15 10:30:00",
		Tags:       []string{"golang", "tars", "rpc", "backend", "vip"},
		Metadata: map[string]string{
			"department": "engineering",
			"level":      "senior",
			"location":   "shenzhen",
			"team":       "infrastructure",
			"source":     "signup-form",
		},
	}
}

// benchPage is a UserPage of 100 such users.
func benchPage() corpus.UserPage {
	p := corpus.UserPage{Total: 1000, Page: 3, PageSize: 100}
	for i := range int32(100) {
		p.Users = append(p.Users, benchUser(10000+i))
	}
	return p
}

// benchScalars has one field of every scalar type, none of them at its
// default (so every field is written).
func benchScalars() corpus.AllScalars {
	return corpus.AllScalars{
		B: true, I8: -5, U8: 200, I16: -1000, U16: 60000, I32: 100000,
		U32: 3_000_000_000, I64: 1 << 40, F32: 1.5, F64: 2.25, S: "all scalars",
	}
}

// sink keeps decoded values alive, so that both sides decode into a value on
// the heap (a fresh one per operation) whatever escape analysis decides.
var (
	sink      any
	sinkBytes []byte
)

// BenchmarkCodec compares gotars' reflection codec with TarsGo's generated
// code on the same values, in the same run. Each operation is measured in the
// cheapest way each library offers, the same way on both sides:
//
//   - encode: into a reused buffer. gotars: w.Reset(); Codec.Encode(&w, &v)
//     with one codec.Writer; TarsGo: buf.Reset(); v.WriteTo(buf);
//     buf.ToBytes() with one codec.Buffer.
//   - append (gotars only): Codec.Append(buf[:0], &v) into a reused slice
//     (it takes a pooled Writer per call).
//   - marshal: a fresh buffer per operation. gotars: Codec.Marshal(&v) (an
//     exactly sized copy the caller owns); TarsGo: codec.NewBuffer();
//     v.WriteTo(buf); buf.ToBytes().
//   - decode: a reused reader, a fresh heap value per operation. gotars:
//     r.Reset(data); Codec.Decode(&r, new(T)); TarsGo: r.Reset(data);
//     new(T).ReadFrom(r).
//   - unmarshal: the one-call form, a fresh value per operation. gotars:
//     Codec.Unmarshal(data, new(T)) (it takes a pooled Reader); TarsGo:
//     new(T).ReadFrom(codec.NewReader(data)).
//
// Both sides copy every decoded string out of the input. The sub-benchmark
// names end in impl=gotars / impl=tarsgo so that `benchstat -col /impl` puts
// the two side by side.
func BenchmarkCodec(b *testing.B) {
	benchPair[corpus.UserInfo, genuser.UserInfo](b, "UserInfo", benchUser(12345))
	benchPair[corpus.UserPage, genuser.UserPage](b, "UserPage", benchPage())
	benchPair[corpus.AllScalars, gen.AllScalars](b, "AllScalars", benchScalars())
}

// BenchmarkCodecMaps measures a struct whose weight is a map of plain
// scalars: TarsGo's own statf.StatMicMsgBody (a map<int,int> of 20
// latency buckets), the typed-map path of reflectcodec (fastmap.go).
func BenchmarkCodecMaps(b *testing.B) {
	body := corpus.StatMicMsgBody{Count: 1000, TimeoutCount: 3, ExecCount: 1, TotalRspTime: 123456, MaxRspTime: 900, MinRspTime: 1,
		IntervalCount: map[int32]int32{}}
	for i := range int32(20) {
		body.IntervalCount[i*50] = i * 7
	}
	benchPair[corpus.StatMicMsgBody, statf.StatMicMsgBody](b, "StatMicMsgBody", body)
}

func benchPair[M any, G any, PG interface {
	*G
	tarsStruct
}](b *testing.B, name string, m M) {
	c, err := reflectcodec.For[M]()
	if err != nil {
		b.Fatal(err)
	}
	var g G
	convert(reflect.ValueOf(&g).Elem(), reflect.ValueOf(&m).Elem())
	tb := codec.NewBuffer()
	if err := PG(&g).WriteTo(tb); err != nil {
		b.Fatal(err)
	}
	data := tb.ToBytes()
	ob, err := c.Marshal(&m)
	if err != nil {
		b.Fatal(err)
	}
	if len(ob) != len(data) {
		b.Fatalf("%s: gotars writes %d bytes, TarsGo %d", name, len(ob), len(data))
	}

	b.Run(name+"/encode/impl=gotars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var w gtcodec.Writer
		for b.Loop() {
			w.Reset()
			if err := c.Encode(&w, &m); err != nil {
				b.Fatal(err)
			}
			_ = w.Bytes()
		}
	})
	b.Run(name+"/encode/impl=tarsgo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		buf := codec.NewBuffer()
		for b.Loop() {
			buf.Reset()
			if err := PG(&g).WriteTo(buf); err != nil {
				b.Fatal(err)
			}
			_ = buf.ToBytes()
		}
	})
	b.Run(name+"/append/impl=gotars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var buf []byte
		for b.Loop() {
			if buf, err = c.Append(buf[:0], &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(name+"/marshal/impl=gotars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			out, err := c.Marshal(&m)
			if err != nil {
				b.Fatal(err)
			}
			sinkBytes = out
		}
	})
	b.Run(name+"/marshal/impl=tarsgo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			buf := codec.NewBuffer()
			if err := PG(&g).WriteTo(buf); err != nil {
				b.Fatal(err)
			}
			sinkBytes = buf.ToBytes()
		}
	})
	b.Run(name+"/decode/impl=gotars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var r gtcodec.Reader
		for b.Loop() {
			r.Reset(data)
			v := new(M)
			if err := c.Decode(&r, v); err != nil {
				b.Fatal(err)
			}
			sink = v
		}
	})
	b.Run(name+"/decode/impl=tarsgo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		r := codec.NewReader(nil)
		for b.Loop() {
			r.Reset(data)
			v := PG(new(G))
			if err := v.ReadFrom(r); err != nil {
				b.Fatal(err)
			}
			sink = v
		}
	})
	b.Run(name+"/unmarshal/impl=gotars", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			v := new(M)
			if err := c.Unmarshal(data, v); err != nil {
				b.Fatal(err)
			}
			sink = v
		}
	})
	b.Run(name+"/unmarshal/impl=tarsgo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			v := PG(new(G))
			if err := v.ReadFrom(codec.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			sink = v
		}
	})
}
