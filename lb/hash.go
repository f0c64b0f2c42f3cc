package lb

// HashNew is TarsGo's tars.HashNew (and tars.MagicStringHash): Jenkins'
// one-at-a-time hash with its final avalanche, over the key's runes, 1
// instead of 0. It is the hash to turn a string key into a Request.Hash.
// For ASCII keys it equals TarsCpp's tars::hash_new<string> and
// magic_string_hash; TarsCpp hashes bytes as signed chars, so keys with
// other characters hash differently there.
func HashNew(key string) uint32 {
	var h uint32
	for _, c := range key {
		h += uint32(c)
		h += h << 10
		h ^= h >> 6
	}
	h += h << 3
	h ^= h >> 11
	h += h << 15
	if h == 0 {
		return 1
	}
	return h
}

// HashString is TarsGo's tars.HashString, h = 5*h + c over the key's
// runes. TarsCpp's hash_string keeps 64 bits (size_t): its low 32 bits
// equal this for ASCII keys, but a modulo hash on the full value picks
// differently.
func HashString(key string) uint32 {
	var h uint32
	for _, c := range key {
		h = 5*h + uint32(c)
	}
	return h
}

// Hash is TarsGo's tars.Hash, its port of TarsCpp's tars::hash<string>:
// the ELF (PJW) hash over the key's runes (TarsCpp: over its bytes as
// signed chars, into a size_t).
func Hash(key string) uint32 {
	var h uint32
	for _, c := range key {
		h = h<<4 + uint32(c)
		if g := h & 0xF0000000; g != 0 {
			h ^= g >> 24
			h ^= g
		}
	}
	return h
}
