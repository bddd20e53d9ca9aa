package errordetectprocessor

import (
	"math/bits"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
)

// Scans that test eight bytes of a text at a time ("SIMD within a register"). Every test
// here is exact per byte: no borrow or carry crosses from one byte into the next.

const (
	lsbEachByte = 0x0101010101010101
	msbEachByte = 0x8080808080808080
)

// bytesBetween sets bit 7 of each byte of x that lies strictly between m and n (m <= 127,
// n <= 128), and no other bit; bytes of 0x80 and above are never between. The sums stay
// within each byte.
func bytesBetween(x uint64, m, n uint64) uint64 {
	low := x & (lsbEachByte * 0x7f)
	return (lsbEachByte*(127+n) - low) &^ x & (low + lsbEachByte*(127-m)) & msbEachByte
}

// countDigits returns how many bytes of s are ASCII digits.
func countDigits(s string) int {
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		n += bits.OnesCount64(bytesBetween(swar.Load64(s[i:]), '0'-1, '9'+1))
	}
	for ; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

// printableASCII reports whether every byte of s lies in 0x20..0x7f. A byte below 0x20
// borrows from the bytes above it, which can only add failures above the first one.
func printableASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if x := swar.Load64(s[i:]); ((x-lsbEachByte*0x20)|x)&msbEachByte != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiOnly reports whether every byte of s is below 0x80.
func asciiOnly(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if swar.Load64(s[i:])&msbEachByte != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
