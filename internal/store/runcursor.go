package store

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// RunCursor is the position after the last run of a page of ListRuns: runs are ordered by
// LastSeen, newest first, then by ID. Every backend uses this one encoding, so a cursor means
// the same thing whichever replica or backend answers the next page.
type RunCursor struct {
	LastSeen int64
	ID       string
}

// Encode returns the opaque, checksummed cursor string.
func (c RunCursor) Encode() string {
	b := []byte{'r'}
	b = binary.BigEndian.AppendUint64(b, uint64(c.LastSeen))
	b = append(b, c.ID...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeRunCursor parses a cursor made by Encode; false for anything else.
func DecodeRunCursor(s string) (RunCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 13 || b[0] != 'r' {
		return RunCursor{}, false
	}
	n := len(b) - 4
	if crc32.ChecksumIEEE(b[:n]) != binary.BigEndian.Uint32(b[n:]) {
		return RunCursor{}, false
	}
	return RunCursor{LastSeen: int64(binary.BigEndian.Uint64(b[1:9])), ID: string(b[9:n])}, true
}

// After reports whether a run with lastSeen and id comes after the cursor in page order.
func (c RunCursor) After(lastSeen int64, id string) bool {
	return lastSeen < c.LastSeen || lastSeen == c.LastSeen && id > c.ID
}
