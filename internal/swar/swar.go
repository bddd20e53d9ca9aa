// Package swar tests eight bytes of a string at a time, as one integer (SIMD within a
// register), for the scans on hot paths: tokenizing, JSON escaping, text checks. Every test
// here is exact per byte: no borrow or carry crosses from one byte into the next.
package swar

const (
	// LSBs has the lowest bit of each byte set.
	LSBs = 0x0101010101010101
	// MSBs has the highest bit of each byte set: the tests below mark a byte with it.
	MSBs = 0x8080808080808080
)

// Load64 is the first eight bytes of s, little-endian: the first byte is the lowest. The Go
// compiler turns it into one load. s must hold at least eight bytes.
func Load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Between sets the highest bit of each byte of x that lies strictly between m and n
// (m <= 127, n <= 128), and no other bit; bytes of 0x80 and above are never between. The
// sums stay within each byte.
func Between(x uint64, m, n uint64) uint64 {
	low := x & (LSBs * 0x7f)
	return (LSBs*(127+n) - low) &^ x & (low + LSBs*(127-m)) & MSBs
}
