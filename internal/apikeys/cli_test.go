package apikeys

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = RunCLI(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLI_CreateListRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.yaml")

	code, out, errOut := runCLI("keys", "create", "--project", "alpha", "--name", "ci", "--file", path)
	require.Equal(t, 0, code, errOut)
	key := strings.TrimSpace(out)
	require.True(t, strings.HasPrefix(key, KeyPrefix), "stdout is the key alone: %q", out)
	assert.Equal(t, 1, strings.Count(out, "\n"))
	assert.Contains(t, errOut, `OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer `+key+`"`)
	assert.Contains(t, errOut, `TRACELOOP_HEADERS="Authorization=Bearer%20`+key+`"`)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), key)
	assert.Contains(t, string(data), HashKey(key).String())

	// Without the optional leading "keys", and with a role.
	code, out, errOut = runCLI("create", "--project", "beta", "--name", "ops", "--role", "admin", "--file", path)
	require.Equal(t, 0, code, errOut)
	opsKey := strings.TrimSpace(out)

	code, out, errOut = runCLI("keys", "list", "--file", path)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, key)
	assert.NotContains(t, out, opsKey)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.Equal(t, []string{"NAME", "PROJECT", "ROLE", "SHA256", "CREATED"}, strings.Fields(lines[0]))
	ci := strings.Fields(lines[1])
	assert.Equal(t, []string{"ci", "alpha", "-", HashKey(key).String()[:12]}, ci[:4])
	ops := strings.Fields(lines[2])
	assert.Equal(t, []string{"ops", "beta", "admin", HashKey(opsKey).String()[:12]}, ops[:4])

	code, out, errOut = runCLI("keys", "revoke", "--name", "ci", "--file", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `revoked key "ci" of project "alpha"`)

	code, out, errOut = runCLI("keys", "revoke", "--hash", HashKey(opsKey).String()[:8], "--file", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `revoked key "ops"`)

	entries, err := ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, entries)

	code, _, errOut = runCLI("keys", "revoke", "--name", "ci", "--file", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no key named "ci"`)
}

func TestCLI_ListWarnsAboutPlainKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(path, []byte("keys: [{key: th_handwritten_plain_key, project: p, name: legacy}]\n"), 0o600))
	code, out, errOut := runCLI("list", "--file", path)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "th_handwritten_plain_key")
	assert.Contains(t, out, HashKey("th_handwritten_plain_key").String()[:12])
	assert.Contains(t, errOut, "hold a plain key")
}

func TestCLI_Errors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.yaml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no command", args: nil, wantCode: 2, wantErr: "usage:"},
		{name: "only keys", args: []string{"keys"}, wantCode: 2, wantErr: "usage:"},
		{name: "unknown command", args: []string{"keys", "rotate"}, wantCode: 2, wantErr: `unknown command "rotate"`},
		{name: "create without project", args: []string{"keys", "create", "--file", file}, wantCode: 2, wantErr: "--project is required"},
		{name: "create with bad role", args: []string{"keys", "create", "--project", "p", "--role", "root", "--file", file}, wantCode: 1, wantErr: `role "root" is not supported`},
		{name: "unknown flag", args: []string{"keys", "create", "--projct", "p"}, wantCode: 2, wantErr: "flag provided but not defined"},
		{name: "positional argument", args: []string{"keys", "list", "extra"}, wantCode: 2, wantErr: `unexpected argument "extra"`},
		{name: "revoke needs a selector", args: []string{"keys", "revoke", "--file", file}, wantCode: 2, wantErr: "exactly one of --name or --hash"},
		{name: "revoke with missing file", args: []string{"keys", "revoke", "--name", "x", "--file", file}, wantCode: 1, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			assert.Equal(t, tt.wantCode, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.wantErr)
		})
	}
	_, err := os.Stat(file)
	assert.ErrorIs(t, err, os.ErrNotExist, "failed commands must not create the keys file")
}

func TestCLI_ListWithoutFile(t *testing.T) {
	code, out, errOut := runCLI("keys", "list", "--file", filepath.Join(t.TempDir(), "none.yaml"))
	assert.Equal(t, 0, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "no keys file at")
}

func TestCLI_Help(t *testing.T) {
	code, out, _ := runCLI("keys", "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "create --project P")
}
