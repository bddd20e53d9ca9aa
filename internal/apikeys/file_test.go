package apikeys

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_Formats(t *testing.T) {
	hash := HashKey("th_x").String()
	want := []Entry{{Name: "ci", Project: "alpha", Role: "admin", KeySHA256: hash}}
	tests := []struct {
		name    string
		in      string
		want    []Entry
		wantErr string
	}{
		{name: "yaml document", in: "keys:\n  - name: ci\n    project: alpha\n    role: admin\n    key_sha256: " + hash + "\n", want: want},
		{name: "yaml list", in: "# comment\n- {name: ci, project: alpha, role: admin, key_sha256: " + hash + "}\n", want: want},
		{name: "json document", in: `{"keys": [{"name": "ci", "project": "alpha", "role": "admin", "key_sha256": "` + hash + `"}]}`, want: want},
		{name: "json list with tabs", in: "[\n\t{\"name\": \"ci\",\t\"project\": \"alpha\", \"role\": \"admin\", \"key_sha256\": \"" + hash + "\"}\n]", want: want},
		{name: "plain key entry", in: "keys: [{key: th_x, project: p}]", want: []Entry{{Key: "th_x", Project: "p"}}},
		{name: "created timestamp", in: "keys: [{key: th_x, project: p, created: 2026-11-25T12:00:00Z}]",
			want: []Entry{{Key: "th_x", Project: "p", Created: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}}},
		{name: "empty", in: ""},
		{name: "whitespace and comments only", in: "\n# nothing yet\n\n"},
		{name: "empty key list", in: "keys: []\n", want: []Entry{}},
		{name: "unknown yaml field", in: "keys: [{key: th_x, projet: p}]", wantErr: "projet"},
		{name: "unknown json field", in: `{"keys": [{"key": "th_x", "projet": "p"}]}`, wantErr: "projet"},
		{name: "unknown top-level key", in: "key: [{key: th_x, project: p}]", wantErr: "key"},
		{name: "broken yaml", in: "keys: [{key: th_x, project: p", wantErr: "parse YAML"},
		{name: "truncated json", in: `{"keys": [{"key": "th_x"`, wantErr: "parse JSON"},
		{name: "scalar document", in: "hello", wantErr: "expected a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWriteFile_RoundTripsAndIsPrivate(t *testing.T) {
	for _, name := range []string{"keys.yaml", "keys.json"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nested", "dir", name)
			entries := []Entry{
				{Name: "a", Project: "alpha", KeySHA256: HashKey("th_a").String(), Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
				{Name: "b", Project: "beta", Role: RoleAdmin, KeySHA256: HashKey("th_b").String()},
			}
			require.NoError(t, WriteFile(path, entries))
			got, err := ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, entries, got)

			if runtime.GOOS != "windows" {
				info, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
			}
			leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
			require.NoError(t, err)
			assert.Empty(t, leftovers, "temporary files left behind")

			data, err := os.ReadFile(path)
			require.NoError(t, err)
			if strings.HasSuffix(name, ".json") {
				assert.True(t, strings.HasPrefix(string(data), "{"))
			} else {
				assert.True(t, strings.HasPrefix(string(data), "# tracehound API keys"))
			}
		})
	}
}

func TestWriteFile_EmptyListStaysAValidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, WriteFile(path, nil))
	got, err := ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestCreate_StoresOnlyTheHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	now := time.Date(2026, 11, 25, 12, 0, 0, 500, time.UTC)
	key, e, err := Create(path, Entry{Project: "alpha", Role: RoleAdmin}, now)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(key, KeyPrefix))
	assert.Equal(t, HashKey(key).String(), e.KeySHA256)
	assert.Equal(t, "key-"+e.KeySHA256[:8], e.Name, "default name")
	assert.Equal(t, now.Truncate(time.Second), e.Created)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), key)
	assert.NotContains(t, string(data), strings.TrimPrefix(key, KeyPrefix))
	assert.Contains(t, string(data), e.KeySHA256)

	_, _, err = Create(path, Entry{Project: "beta", Name: e.Name}, now)
	require.ErrorContains(t, err, "already has a key named")

	_, _, err = Create(path, Entry{Project: ""}, now)
	require.ErrorContains(t, err, "project is required")

	got, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, []Entry{e}, got, "failed creates must not change the file")
}

func TestCreate_RefusesToOverwriteABrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	broken := "keys: [{key_sha256: abc, project: p\n"
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))
	_, _, err := Create(path, Entry{Project: "p"}, time.Now())
	require.ErrorContains(t, err, "fix it before changing keys")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, broken, string(data))
}

func TestRevoke(t *testing.T) {
	a := Entry{Name: "a", Project: "p", KeySHA256: "aaaa" + HashKey("th_a").String()[4:]}
	b := Entry{Name: "b", Project: "p", KeySHA256: "aaab" + HashKey("th_b").String()[4:]}
	c := Entry{Name: "c", Project: "q", Key: "th_plain"}
	tests := []struct {
		name, byName, byHash string
		wantRemoved          []Entry
		wantErr              string
	}{
		{name: "by name", byName: "b", wantRemoved: []Entry{b}},
		{name: "by hash prefix", byHash: "AAAA", wantRemoved: []Entry{a}},
		{name: "plain key entry by hash", byHash: HashKey("th_plain").String()[:8], wantRemoved: []Entry{c}},
		{name: "prefix too short", byHash: "aaa", wantErr: "too short"},
		{name: "unknown prefix", byHash: "aaa0", wantErr: "no key whose hash starts with"},
		{name: "non-hex prefix", byHash: "zzzz", wantErr: "not hex"},
		{name: "unknown name", byName: "nope", wantErr: `no key named "nope"`},
		{name: "neither", wantErr: "exactly one"},
		{name: "both", byName: "a", byHash: "aaaa", wantErr: "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.yaml")
			all := []Entry{a, b, c}
			require.NoError(t, WriteFile(path, all))
			removed, err := Revoke(path, tt.byName, tt.byHash)
			got, rerr := ReadFile(path)
			require.NoError(t, rerr)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Equal(t, all, got, "a failed revoke must not change the file")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantRemoved, removed)
			assert.Len(t, got, len(all)-len(removed))
			for _, e := range got {
				assert.NotContains(t, removed, e)
			}
		})
	}
}

func TestRevoke_PrefixMatchingSeveralKeysIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	a := Entry{Name: "a", Project: "p", KeySHA256: "abcd0" + HashKey("th_a").String()[5:]}
	b := Entry{Name: "b", Project: "p", KeySHA256: "abcd1" + HashKey("th_b").String()[5:]}
	require.NoError(t, WriteFile(path, []Entry{a, b}))
	_, err := Revoke(path, "", "abcd")
	require.ErrorContains(t, err, "matches 2 keys")
}

// FuzzParse checks that any file content either fails to parse or yields keys that
// survive being written back and read again (what every CLI change does).
func FuzzParse(f *testing.F) {
	hash := HashKey("th_x").String()
	f.Add([]byte("keys:\n  - {name: ci, project: alpha, role: admin, key_sha256: " + hash + "}\n"))
	f.Add([]byte(`[{"key": "th_x", "project": "p", "name": "n"}]`))
	f.Add([]byte("- {key: th_x, project: p, created: 2026-11-25T12:00:00Z}\n"))
	f.Add([]byte("# empty\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(data)
		if err != nil {
			return
		}
		keys, err := Resolve(entries)
		if err != nil {
			return
		}
		for _, path := range []string{"keys.yaml", "keys.json"} {
			out, err := Marshal(path, entries)
			if err != nil {
				t.Fatalf("marshal %s: %v", path, err)
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatalf("re-parse %s: %v\n%s", path, err, out)
			}
			keys2, err := Resolve(again)
			if err != nil {
				t.Fatalf("re-resolve %s: %v\n%s", path, err, out)
			}
			if len(keys) != len(keys2) {
				t.Fatalf("%s: %d keys became %d", path, len(keys), len(keys2))
			}
			for i := range keys {
				if keys[i] != keys2[i] {
					t.Fatalf("%s: key %d changed: %+v -> %+v", path, i, keys[i], keys2[i])
				}
			}
		}
	})
}
