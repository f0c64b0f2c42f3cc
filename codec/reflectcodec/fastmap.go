package reflectcodec

import (
	"reflect"
	"strconv"
	"unsafe"

	"github.com/gotars/tars/codec"
)

// Maps whose key and value are plain int32, int64, string, float64 or bool
// (map[int32]int32, map[string]int64, …) are common in TARS interfaces (the
// stat and property protocols are full of them). They get typed encoders and
// decoders here, instead of the reflect.MapIter path that other maps take:
// no reflect.Value per entry. map[string]string has its own, faster path.

// fastMap is the typed codec of one map type.
type fastMap struct {
	enc func(b []byte, tag uint8, p unsafe.Pointer) []byte
	dec func(r *codec.Reader, n int, p unsafe.Pointer) error
}

// fastMaps holds the typed codecs, by exact Go map type; built once, during
// package initialisation (before any plan is compiled), and only read
// afterwards.
var fastMaps = func() map[reflect.Type]*fastMap {
	m := map[reflect.Type]*fastMap{}
	regKey(m, putInt32, getInt32)
	regKey(m, putInt64, getInt64)
	regKey(m, appendString, getString)
	return m
}()

// regKey registers the maps with key type K and every scalar value type.
func regKey[K comparable](m map[reflect.Type]*fastMap, pk func([]byte, uint8, K) []byte, gk func(*codec.Reader, codec.Head) (K, error)) {
	regMap(m, pk, gk, putInt32, getInt32)
	regMap(m, pk, gk, putInt64, getInt64)
	regMap(m, pk, gk, putFloat64, getFloat64)
	regMap(m, pk, gk, putBool, getBool)
	if reflect.TypeFor[K]() != reflect.TypeFor[string]() { // map[string]string has its own path
		regMap(m, pk, gk, appendString, getString)
	}
}

func regMap[K comparable, V any](fm map[reflect.Type]*fastMap, pk func([]byte, uint8, K) []byte, gk func(*codec.Reader, codec.Head) (K, error),
	pv func([]byte, uint8, V) []byte, gv func(*codec.Reader, codec.Head) (V, error)) {
	fm[reflect.TypeFor[map[K]V]()] = &fastMap{
		enc: func(b []byte, tag uint8, p unsafe.Pointer) []byte {
			m := *(*map[K]V)(p)
			b = appendLen(b, tag, codec.Map, len(m))
			for k, v := range m {
				b = pv(pk(b, 0, k), 1, v)
			}
			return b
		},
		dec: func(r *codec.Reader, n int, p unsafe.Pointer) error {
			m := make(map[K]V, n)
			for i := range n {
				h, err := elemHead(r, 0)
				if err != nil {
					return pathErr(err, "["+strconv.Itoa(i)+"]")
				}
				k, err := gk(r, h)
				if err != nil {
					return pathErr(err, "["+strconv.Itoa(i)+"]")
				}
				if h, err = elemHead(r, 1); err != nil {
					return pathErr(err, "["+strconv.Itoa(i)+"]")
				}
				v, err := gv(r, h)
				if err != nil {
					return pathErr(err, "["+strconv.Itoa(i)+"]")
				}
				m[k] = v
			}
			*(*map[K]V)(p) = m
			return nil
		},
	}
}

func putInt32(b []byte, tag uint8, v int32) []byte { return appendInt(b, tag, int64(v)) }
func putInt64(b []byte, tag uint8, v int64) []byte { return appendInt(b, tag, v) }
func putBool(b []byte, tag uint8, v bool) []byte   { return appendInt(b, tag, b2i(v)) }
func putFloat64(b []byte, tag uint8, v float64) []byte {
	return appendFloat64(b, tag, v)
}

func getInt32(r *codec.Reader, h codec.Head) (int32, error) {
	v, err := r.IntBody(h, codec.Int4)
	return int32(v), err
}

func getInt64(r *codec.Reader, h codec.Head) (int64, error) { return r.IntBody(h, codec.Int8) }

func getString(r *codec.Reader, h codec.Head) (string, error) { return r.StringBody(h) }

func getFloat64(r *codec.Reader, h codec.Head) (float64, error) { return r.DoubleBody(h) }

func getBool(r *codec.Reader, h codec.Head) (bool, error) {
	v, err := r.IntBody(h, codec.Int1)
	return v != 0, err // as a bool field reads
}
