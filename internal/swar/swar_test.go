package swar

import (
	"encoding/binary"
	"testing"
)

func TestLoad64(t *testing.T) {
	for _, s := range []string{"abcdefgh", "\x00\x01\x02\x03\x04\x05\x06\x07", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8 and more"} {
		if got, want := Load64(s), binary.LittleEndian.Uint64([]byte(s[:8])); got != want {
			t.Errorf("Load64(%q) = %#x, want %#x", s, got, want)
		}
	}
}

// TestBetween checks every byte value at every position, among neighbours that are between
// and neighbours that are not, against a comparison per byte.
func TestBetween(t *testing.T) {
	for _, r := range [][2]uint64{{'a' - 1, 'z' + 1}, {'0' - 1, '9' + 1}, {0x1f, 0x80}, {'"' - 1, '"' + 1}, {0, 1}, {127, 128}} {
		m, n := r[0], r[1]
		for _, fill := range []byte{0, 'm', '5', 0x7f, 0x80, 0xff} {
			for pos := range 8 {
				for v := range 256 {
					b := []byte{fill, fill, fill, fill, fill, fill, fill, fill}
					b[pos] = byte(v)
					var want uint64
					for i, c := range b {
						if uint64(c) > m && uint64(c) < n {
							want |= 0x80 << (8 * i)
						}
					}
					if got := Between(Load64(string(b)), m, n); got != want {
						t.Fatalf("Between(%q, %d, %d) = %#x, want %#x", b, m, n, got, want)
					}
				}
			}
		}
	}
}
