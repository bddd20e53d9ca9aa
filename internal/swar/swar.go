// Package swar reads eight bytes of a string as one integer, for the scans that test eight
// bytes at a time (SIMD within a register) on hot paths: tokenizing, JSON escaping, text checks.
package swar

// Load64 is the first eight bytes of s, little-endian: the first byte is the lowest. The Go
// compiler turns it into one load. s must hold at least eight bytes.
func Load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
