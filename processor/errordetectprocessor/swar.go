package errordetectprocessor

import (
	"math/bits"
	"unicode/utf8"

	"github.com/tracehound/tracehound/internal/swar"
)

// Scans that test eight bytes of a text at a time (package swar).

// countDigits returns how many bytes of s are ASCII digits.
func countDigits(s string) int {
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		n += bits.OnesCount64(swar.Between(swar.Load64(s[i:]), '0'-1, '9'+1))
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
		if x := swar.Load64(s[i:]); ((x-swar.LSBs*0x20)|x)&swar.MSBs != 0 {
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
		if swar.Load64(s[i:])&swar.MSBs != 0 {
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
