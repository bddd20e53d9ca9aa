package apikeys

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashKey_IsHexSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte("th_example"))
	assert.Equal(t, hex.EncodeToString(sum[:]), HashKey("th_example").String())
}

func TestParseDigest(t *testing.T) {
	want := HashKey("th_example")
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "lower case", in: want.String()},
		{name: "upper case", in: strings.ToUpper(want.String())},
		{name: "too short", in: want.String()[:10], wantErr: "must be 64 hex characters"},
		{name: "too long", in: want.String() + "00", wantErr: "must be 64 hex characters"},
		{name: "not hex", in: "g" + want.String()[1:], wantErr: "not valid hex"},
		{name: "empty", in: "", wantErr: "must be 64 hex characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDigest(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestGenerateKey_PrefixedRandomURLSafe(t *testing.T) {
	shape := regexp.MustCompile(`^th_[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 100 {
		k, err := GenerateKey()
		require.NoError(t, err)
		require.Regexp(t, shape, k)
		require.False(t, seen[k], "duplicate key")
		seen[k] = true
	}
}

func TestEntryValidate(t *testing.T) {
	hash := HashKey("th_example").String()
	tests := []struct {
		name    string
		entry   Entry
		wantErr string
	}{
		{name: "plain key", entry: Entry{Key: "th_example", Project: "p"}},
		{name: "hash with admin role", entry: Entry{KeySHA256: hash, Project: "p", Name: "ops key", Role: RoleAdmin}},
		{name: "both key forms", entry: Entry{Key: "th_example", KeySHA256: hash, Project: "p"}, wantErr: "key and key_sha256 are mutually exclusive"},
		{name: "no key", entry: Entry{Project: "p"}, wantErr: "key or key_sha256 is required"},
		{name: "bad hash", entry: Entry{KeySHA256: "abc", Project: "p"}, wantErr: "key_sha256 must be 64 hex characters"},
		{name: "key with spaces around", entry: Entry{Key: " th_example", Project: "p"}, wantErr: "whitespace"},
		{name: "no project", entry: Entry{Key: "th_example"}, wantErr: "project is required"},
		{name: "project with space", entry: Entry{Key: "th_example", Project: "my project"}, wantErr: "project"},
		{name: "name with newline", entry: Entry{Key: "th_example", Project: "p", Name: "a\nb"}, wantErr: "name"},
		{name: "unknown role", entry: Entry{Key: "th_example", Project: "p", Role: "root"}, wantErr: `role "root" is not supported`},
		{name: "role in other case", entry: Entry{Key: "th_example", Project: "p", Role: "Admin"}, wantErr: "is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.Validate()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestResolve_HashesPlainKeysAndNamesBadEntry(t *testing.T) {
	hash := HashKey("th_two").String()
	keys, err := Resolve([]Entry{
		{Key: "th_one", Project: "a", Name: "one"},
		{KeySHA256: strings.ToUpper(hash), Project: "b", Name: "two", Role: RoleAdmin},
	})
	require.NoError(t, err)
	assert.Equal(t, []Key{
		{Digest: HashKey("th_one"), Project: "a", Name: "one"},
		{Digest: HashKey("th_two"), Project: "b", Name: "two", Role: RoleAdmin},
	}, keys)

	_, err = Resolve([]Entry{{Key: "th_one", Project: "a"}, {Key: "th_two", Project: "b"}, {Key: "th_three"}})
	require.EqualError(t, err, "keys[2]: project is required")

	_, err = Resolve([]Entry{{Key: "th_two", Project: "a"}, {KeySHA256: hash, Project: "b"}})
	require.EqualError(t, err, "keys[1]: same key as keys[0]")
}
