// Package apikeys is tracehound's API key store: the keys file format, key hashing and
// generation, and the create/list/revoke operations behind both the bearerauth extension
// and the `tracehound keys` command.
//
// A key is a random secret that callers send as "Authorization: Bearer <key>". At rest
// only its SHA-256 digest is kept (key_sha256), so a leaked keys file or config does not
// leak a usable credential. Keys are 256-bit random values, so a plain, unsalted SHA-256
// is enough: there is nothing to brute-force that a slow hash would protect.
package apikeys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

const (
	// KeyPrefix starts every generated key, so that a leaked tracehound key is easy
	// to recognise (and to grep for) in logs, repositories and secret scanners.
	KeyPrefix = "th_"
	// RoleAdmin is the only role besides the default "" (ingest and read own project).
	RoleAdmin = "admin"
	// DefaultFile is where the extension and the CLI look for keys unless told otherwise.
	DefaultFile = "./data/keys.yaml"

	keyRandomBytes = 32
	maxFieldLen    = 256
)

// Entry is one key in a keys file or in the extension's inline config. Exactly one of
// Key (plain, hashed when loaded) and KeySHA256 (hex SHA-256 of the key) is set.
type Entry struct {
	Name      string    `yaml:"name,omitempty" json:"name,omitempty"`
	Project   string    `yaml:"project" json:"project"`
	Role      string    `yaml:"role,omitempty" json:"role,omitempty"`
	KeySHA256 string    `yaml:"key_sha256,omitempty" json:"key_sha256,omitempty"`
	Key       string    `yaml:"key,omitempty" json:"key,omitempty"`
	Created   time.Time `yaml:"created,omitempty" json:"created,omitzero"`
}

// Digest is the SHA-256 of a key.
type Digest [sha256.Size]byte

// HashKey returns the digest under which key is stored and looked up.
func HashKey(key string) Digest {
	return sha256.Sum256([]byte(key))
}

// String is the lower-case hex form used in key_sha256.
func (d Digest) String() string {
	return hex.EncodeToString(d[:])
}

// ParseDigest reads a key_sha256 value: 64 hex digits, either case.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != hex.EncodedLen(len(d)) {
		return d, fmt.Errorf("key_sha256 must be %d hex characters (the SHA-256 of the key), got %d characters", hex.EncodedLen(len(d)), len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("key_sha256 is not valid hex: %w", err)
	}
	return d, nil
}

// GenerateKey returns a new random key: KeyPrefix followed by 32 random bytes in
// unpadded base64url, which needs no escaping in headers, env vars or URLs.
func GenerateKey() (string, error) {
	b := make([]byte, keyRandomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate API key: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Validate checks one entry. Its errors name the field but not the entry's position;
// callers add that ("keys[2]: ...").
func (e Entry) Validate() error {
	switch {
	case e.Key != "" && e.KeySHA256 != "":
		return errors.New("key and key_sha256 are mutually exclusive")
	case e.Key == "" && e.KeySHA256 == "":
		return errors.New("key or key_sha256 is required (if key comes from ${env:...}, is the variable set?)")
	}
	if e.KeySHA256 != "" {
		if _, err := ParseDigest(e.KeySHA256); err != nil {
			return err
		}
	}
	if strings.TrimSpace(e.Key) != e.Key {
		return errors.New("key has leading or trailing whitespace")
	}
	if e.Project == "" {
		return errors.New("project is required")
	}
	if err := checkText("project", e.Project, true); err != nil {
		return err
	}
	if err := checkText("name", e.Name, false); err != nil {
		return err
	}
	if e.Role != "" && e.Role != RoleAdmin {
		return fmt.Errorf("role %q is not supported (use %q or leave it empty)", e.Role, RoleAdmin)
	}
	return nil
}

// checkText keeps identifiers printable so that they are safe in logs, tables and
// store keys; project IDs additionally may not contain spaces.
func checkText(field, s string, noSpace bool) error {
	if len(s) > maxFieldLen {
		return fmt.Errorf("%s is longer than %d bytes", field, maxFieldLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || (noSpace && unicode.IsSpace(r)) {
			return fmt.Errorf("%s %q contains whitespace or control characters", field, s)
		}
	}
	return nil
}

// Digest returns the entry's key digest: parsed from KeySHA256 or computed from Key.
func (e Entry) Digest() (Digest, error) {
	if e.KeySHA256 != "" {
		return ParseDigest(e.KeySHA256)
	}
	if e.Key == "" {
		return Digest{}, errors.New("key or key_sha256 is required")
	}
	return HashKey(e.Key), nil
}

// Key is a validated entry with its digest resolved; it holds no plain key.
type Key struct {
	Digest  Digest
	Project string
	Name    string
	Role    string
}

// Resolve validates entries and hashes their plain keys. Errors name the entry as
// keys[i]; two entries with the same key are an error because they would make the
// key's project ambiguous.
func Resolve(entries []Entry) ([]Key, error) {
	keys := make([]Key, 0, len(entries))
	seen := make(map[Digest]int, len(entries))
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		d, err := e.Digest()
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if j, dup := seen[d]; dup {
			return nil, fmt.Errorf("keys[%d]: same key as keys[%d]", i, j)
		}
		seen[d] = i
		keys = append(keys, Key{Digest: d, Project: e.Project, Name: e.Name, Role: e.Role})
	}
	return keys, nil
}
