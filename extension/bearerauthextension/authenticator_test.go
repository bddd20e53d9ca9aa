package bearerauthextension

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tracehound/tracehound/internal/apikeys"
	"github.com/tracehound/tracehound/internal/llmschema"
)

const (
	alphaKey = "th_alpha_key_for_tests_0001"
	betaKey  = "th_beta_key_for_tests_0002"
	// pollDeadline bounds every wait for the reload goroutine.
	pollDeadline = 5 * time.Second
	pollTick     = 5 * time.Millisecond
)

// startAuth starts an authenticator with an observed logger and a captured stderr, and
// shuts it down when the test ends.
func startAuth(t *testing.T, cfg *Config) (*authenticator, *observer.ObservedLogs, *bytes.Buffer) {
	t.Helper()
	a, logs, stderr := newTestAuth(cfg)
	require.NoError(t, a.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, a.Shutdown(context.Background())) })
	return a, logs, stderr
}

func newTestAuth(cfg *Config) (*authenticator, *observer.ObservedLogs, *bytes.Buffer) {
	core, logs := observer.New(zapcore.DebugLevel)
	stderr := &bytes.Buffer{}
	return newAuthenticator(cfg, zap.New(core), stderr), logs, stderr
}

func bearer(key string) map[string][]string {
	return map[string][]string{"Authorization": {"Bearer " + key}}
}

// projectFor authenticates key and returns the project the request is attributed to.
func projectFor(a *authenticator, key string) (string, error) {
	ctx, err := a.Authenticate(context.Background(), bearer(key))
	if err != nil {
		return "", err
	}
	return client.FromContext(ctx).Auth.GetAttribute(llmschema.ProjectAuthAttribute).(string), nil
}

func accepted(a *authenticator, key string) bool {
	_, err := projectFor(a, key)
	return err == nil
}

// writeFileAtomic replaces path the way apikeys.WriteFile does, with any content.
func writeFileAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

func inlineConfig(keys ...KeyConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Keys = keys
	cfg.KeysFile = ""
	return cfg
}

func fileConfig(path string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.KeysFile = path
	cfg.ReloadInterval = 10 * time.Millisecond
	return cfg
}

func TestAuthenticate_SetsAuthDataAndKeepsClientInfo(t *testing.T) {
	a, _, _ := startAuth(t, inlineConfig(
		KeyConfig{Key: alphaKey, Project: "alpha", Name: "ci"},
		KeyConfig{KeySHA256: apikeys.HashKey(betaKey).String(), Project: "beta", Name: "ops", Role: "admin"},
	))

	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4318}
	md := client.NewMetadata(map[string][]string{"x-tenant-hint": {"ignored"}})
	in := client.NewContext(context.Background(), client.Info{Addr: addr, Metadata: md})

	tests := []struct {
		key                 string
		project, name, role string
	}{
		{key: alphaKey, project: "alpha", name: "ci", role: ""},
		{key: betaKey, project: "beta", name: "ops", role: "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			ctx, err := a.Authenticate(in, bearer(tt.key))
			require.NoError(t, err)
			info := client.FromContext(ctx)
			assert.Equal(t, addr, info.Addr)
			assert.Equal(t, []string{"ignored"}, info.Metadata.Get("x-tenant-hint"))
			require.NotNil(t, info.Auth)
			assert.Equal(t, tt.project, info.Auth.GetAttribute(llmschema.ProjectAuthAttribute))
			assert.Equal(t, tt.name, info.Auth.GetAttribute("key.name"))
			assert.Equal(t, tt.role, info.Auth.GetAttribute("role"))
			assert.Nil(t, info.Auth.GetAttribute("no.such.attribute"))
			assert.ElementsMatch(t, []string{"project.id", "key.name", "role"}, info.Auth.GetAttributeNames())
		})
	}
}

func TestAuthenticate_Rejections(t *testing.T) {
	a, logs, _ := startAuth(t, inlineConfig(KeyConfig{Key: alphaKey, Project: "alpha"}))
	tests := []struct {
		name    string
		headers map[string][]string
		wantErr error
	}{
		{name: "wrong key", headers: bearer("th_wrong_key_that_is_unknown"), wantErr: errInvalidKey},
		{name: "key with different case", headers: bearer(strings.ToUpper(alphaKey)), wantErr: errInvalidKey},
		{name: "key prefix", headers: bearer(alphaKey[:len(alphaKey)-1]), wantErr: errInvalidKey},
		{name: "missing", headers: map[string][]string{}, wantErr: errNoKey},
		{name: "wrong scheme", headers: map[string][]string{"authorization": {"Basic " + alphaKey}}, wantErr: errBadScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := context.Background()
			ctx, err := a.Authenticate(in, tt.headers)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, in, ctx)
			assert.NotContains(t, err.Error(), "th_")
		})
	}
	for _, e := range logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Message, e.ContextMap()), "th_wrong_key", "logs must not echo keys")
	}
}

func TestAuthenticate_CanceledContext(t *testing.T) {
	a, _, _ := startAuth(t, inlineConfig(KeyConfig{Key: alphaKey, Project: "alpha"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Authenticate(ctx, bearer(alphaKey))
	require.ErrorIs(t, err, context.Canceled)
}

func TestKeySet_Lookup(t *testing.T) {
	var keys []apikeys.Key
	for i := range 50 {
		keys = append(keys, apikeys.Key{Digest: apikeys.HashKey(fmt.Sprintf("th_key_%d", i)), Project: fmt.Sprintf("p%d", i)})
	}
	set, err := newKeySet(keys[:10], keys[10:])
	require.NoError(t, err)
	for i := range 50 {
		got := set.lookup(apikeys.HashKey(fmt.Sprintf("th_key_%d", i)))
		require.NotNil(t, got, "key %d", i)
		assert.Equal(t, fmt.Sprintf("p%d", i), got.project)
	}
	assert.Nil(t, set.lookup(apikeys.HashKey("th_key_50")))
	assert.Nil(t, (&keySet{}).lookup(apikeys.HashKey("")))

	_, err = newKeySet(keys[:2], keys[1:3])
	require.EqualError(t, err, "keys[0]: same key as the inline keys[1]")
}

func TestReload_PicksUpCreatedKeyAndRefusesRevokedOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{
		{Name: "alpha", Project: "alpha", KeySHA256: apikeys.HashKey(alphaKey).String()},
	}))
	a, logs, stderr := startAuth(t, fileConfig(path))
	assert.Empty(t, stderr.String(), "a file with keys must not trigger generation")
	project, err := projectFor(a, alphaKey)
	require.NoError(t, err)
	assert.Equal(t, "alpha", project)

	// Create a key and revoke the old one with the CLI, as an operator would.
	var out, errOut bytes.Buffer
	require.Equal(t, 0, apikeys.RunCLI([]string{"keys", "create", "--project", "gamma", "--name", "gamma", "--file", path}, &out, &errOut), errOut.String())
	gammaKey := strings.TrimSpace(out.String())
	require.Equal(t, 0, apikeys.RunCLI([]string{"keys", "revoke", "--name", "alpha", "--file", path}, &out, &errOut), errOut.String())

	require.Eventually(t, func() bool { return accepted(a, gammaKey) && !accepted(a, alphaKey) },
		pollDeadline, pollTick, "new key accepted and revoked key refused after reload")
	project, err = projectFor(a, gammaKey)
	require.NoError(t, err)
	assert.Equal(t, "gamma", project)
	_, err = projectFor(a, alphaKey)
	require.ErrorIs(t, err, errInvalidKey)

	// A broken file keeps the last good set and is reported.
	writeFileAtomic(t, path, "keys: [{key_sha256: not-a-hash, project: x}]\n")
	require.Eventually(t, func() bool {
		return logs.FilterMessageSnippet("keys_file changed but is invalid").Len() == 1
	}, pollDeadline, pollTick)
	assert.Contains(t, logs.FilterMessageSnippet("keys_file changed but is invalid").All()[0].ContextMap()["error"], "keys[0]: key_sha256")
	assert.True(t, accepted(a, gammaKey), "last good keys stay in force")

	// A file that goes missing keeps them too.
	require.NoError(t, os.Remove(path))
	require.Eventually(t, func() bool {
		return logs.FilterMessageSnippet("cannot read keys_file").Len() == 1
	}, pollDeadline, pollTick)
	assert.True(t, accepted(a, gammaKey))

	// Fixing the file brings the new content in.
	require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{{Name: "beta", Project: "beta", KeySHA256: apikeys.HashKey(betaKey).String()}}))
	require.Eventually(t, func() bool { return accepted(a, betaKey) && !accepted(a, gammaKey) }, pollDeadline, pollTick)
	assert.Equal(t, 1, logs.FilterMessageSnippet("keys_file changed but is invalid").Len(), "each problem is logged once")
	assert.Equal(t, 1, logs.FilterMessageSnippet("cannot read keys_file").Len(), "each problem is logged once")
}

func TestReload_InlineKeysSurviveFileChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{{Project: "beta", KeySHA256: apikeys.HashKey(betaKey).String()}}))
	cfg := fileConfig(path)
	cfg.Keys = []KeyConfig{{Key: alphaKey, Project: "alpha"}}
	a, _, _ := startAuth(t, cfg)
	assert.True(t, accepted(a, alphaKey))
	assert.True(t, accepted(a, betaKey))

	require.NoError(t, apikeys.WriteFile(path, nil))
	require.Eventually(t, func() bool { return !accepted(a, betaKey) }, pollDeadline, pollTick)
	assert.True(t, accepted(a, alphaKey))
}

var generatedKeyPattern = regexp.MustCompile(`th_[A-Za-z0-9_-]{43}`)

func TestStart_GeneratesFirstKeyAndStoresOnlyItsHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.yaml")
	a, logs, stderr := startAuth(t, fileConfig(path))

	keys := generatedKeyPattern.FindAllString(stderr.String(), -1)
	require.NotEmpty(t, keys, "banner shows the key: %s", stderr.String())
	key := keys[0]
	for _, k := range keys {
		assert.Equal(t, key, k)
	}
	assert.Contains(t, stderr.String(), `OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer `+key+`"`)
	assert.Contains(t, stderr.String(), `TRACELOOP_HEADERS="Authorization=Bearer%20`+key+`"`)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), key)
	assert.NotContains(t, string(data), strings.TrimPrefix(key, apikeys.KeyPrefix))
	assert.Contains(t, string(data), apikeys.HashKey(key).String())
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}

	for _, e := range logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Message, e.ContextMap()), key, "the key goes to stderr, never to the logger")
	}

	ctx, err := a.Authenticate(context.Background(), bearer(key))
	require.NoError(t, err)
	auth := client.FromContext(ctx).Auth
	assert.Equal(t, llmschema.DefaultProject, auth.GetAttribute(llmschema.ProjectAuthAttribute))
	assert.Equal(t, apikeys.RoleAdmin, auth.GetAttribute("role"))

	// The next start finds the key and generates nothing.
	second, _, stderr2 := startAuth(t, fileConfig(path))
	assert.Empty(t, stderr2.String())
	assert.True(t, accepted(second, key))
}

func TestStart_GeneratesIntoAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(path, []byte("# no keys yet\n"), 0o600))
	a, _, stderr := startAuth(t, fileConfig(path))
	key := generatedKeyPattern.FindString(stderr.String())
	require.NotEmpty(t, key)
	assert.True(t, accepted(a, key))
}

func TestStart_NoGenerationWhenKeysExistOrDisabled(t *testing.T) {
	t.Run("inline keys", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.yaml")
		cfg := fileConfig(path)
		cfg.Keys = []KeyConfig{{Key: alphaKey, Project: "alpha"}}
		a, logs, stderr := startAuth(t, cfg)
		assert.Empty(t, stderr.String())
		assert.NoFileExists(t, path)
		assert.True(t, accepted(a, alphaKey))
		require.NoError(t, a.Shutdown(context.Background()))
		assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len(), "a keys_file that never existed is not an error")
	})
	t.Run("disabled", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.yaml")
		cfg := fileConfig(path)
		cfg.GenerateKeyIfEmpty = false
		a, logs, stderr := startAuth(t, cfg)
		assert.Empty(t, stderr.String())
		assert.NoFileExists(t, path)
		assert.Equal(t, 1, logs.FilterMessageSnippet("no API keys configured").Len())
		_, err := projectFor(a, alphaKey)
		require.ErrorIs(t, err, errInvalidKey)

		// A key added later is picked up without a restart.
		require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{{Project: "alpha", KeySHA256: apikeys.HashKey(alphaKey).String()}}))
		require.Eventually(t, func() bool { return accepted(a, alphaKey) }, pollDeadline, pollTick)
	})
}

func TestStart_Failures(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		inline  []KeyConfig
		wantErr string
	}{
		{name: "broken file", file: "keys: [{key_sha256: 12, project: p}]\n", wantErr: "keys[0]: key_sha256 must be 64 hex characters"},
		{name: "unparsable file", file: "keys: [\n", wantErr: "parse YAML"},
		{
			name:    "file repeats an inline key",
			file:    "keys: [{key_sha256: " + apikeys.HashKey(alphaKey).String() + ", project: other}]\n",
			inline:  []KeyConfig{{Key: alphaKey, Project: "alpha"}},
			wantErr: "same key as the inline keys[0]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tt.file), 0o600))
			cfg := fileConfig(path)
			cfg.Keys = tt.inline
			a, _, stderr := newTestAuth(cfg)
			err := a.Start(context.Background(), componenttest.NewNopHost())
			require.ErrorContains(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), path)
			require.NoError(t, a.Shutdown(context.Background()))
			assert.Empty(t, stderr.String(), "no key is generated over a broken file")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.file, string(data), "the file is left alone")
		})
	}
}

func TestShutdown_WithoutStartAndTwice(t *testing.T) {
	a, _, _ := newTestAuth(createDefaultConfig().(*Config))
	require.NoError(t, a.Shutdown(context.Background()))
	require.NoError(t, a.Shutdown(context.Background()))
}

func TestFailureLog_AtMostOneWarnPerInterval(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	f := newFailureLog(zap.New(core), 10*time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}
	ctx := client.NewContext(context.Background(), client.Info{Addr: addr})

	for range 5 {
		f.record(ctx, errInvalidKey)
	}
	require.Equal(t, 1, logs.Len())
	first := logs.All()[0]
	assert.Equal(t, zapcore.WarnLevel, first.Level)
	assert.Equal(t, map[string]any{"reason": "invalid API key", "suppressed": int64(0), "client.address": "127.0.0.1:5555"}, first.ContextMap())

	now = now.Add(9 * time.Second)
	f.record(ctx, errNoKey)
	require.Equal(t, 1, logs.Len())

	now = now.Add(time.Second)
	f.record(ctx, errBadScheme)
	require.Equal(t, 2, logs.Len())
	assert.Equal(t, int64(5), logs.All()[1].ContextMap()["suppressed"])
	assert.Equal(t, errBadScheme.Error(), logs.All()[1].ContextMap()["reason"])

	f.record(ctx, errNoKey)
	f.flush()
	require.Equal(t, 3, logs.Len())
	assert.Equal(t, int64(1), logs.All()[2].ContextMap()["suppressed"])
	f.flush()
	assert.Equal(t, 3, logs.Len(), "nothing left to flush")
}

func TestReload_AppliesContentOnceItHoldsStill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{{Project: "alpha", KeySHA256: apikeys.HashKey(alphaKey).String()}}))
	cfg := fileConfig(path)
	cfg.ReloadInterval = time.Hour // the test drives reload itself
	a, _, _ := startAuth(t, cfg)

	require.NoError(t, apikeys.WriteFile(path, []apikeys.Entry{{Project: "beta", KeySHA256: apikeys.HashKey(betaKey).String()}}))
	a.reload()
	assert.True(t, accepted(a, alphaKey), "content seen once may be a file in the middle of a write")
	assert.False(t, accepted(a, betaKey))
	a.reload()
	assert.False(t, accepted(a, alphaKey))
	assert.True(t, accepted(a, betaKey))
}
