package bearerauthextension

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestConfig_LoadAndValidate(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id           string
		want         *Config
		unmarshalErr string
		validateErr  string
	}{
		{id: "bearerauth", want: createDefaultConfig().(*Config)},
		{
			id: "bearerauth/inline",
			want: &Config{
				Keys: []KeyConfig{
					{Key: "th_alpha_key_for_tests_0001", Project: "alpha", Name: "ci"},
					{KeySHA256: "d083fefed34e20e63a999be4b7e5238a3260c794a2fa902f82f8ed8870ccc64c", Project: "beta", Name: "ops", Role: "admin"},
				},
				GenerateKeyIfEmpty: true,
				ReloadInterval:     defaultReloadInterval,
			},
		},
		{
			id:   "bearerauth/file",
			want: &Config{KeysFile: "/etc/tracehound/keys.json", ReloadInterval: 10 * time.Second},
		},
		{id: "bearerauth/mutually_exclusive", validateErr: "keys[1]: key and key_sha256 are mutually exclusive"},
		{id: "bearerauth/bad_hex", validateErr: "keys[0]: key_sha256 is not valid hex"},
		{id: "bearerauth/short_hash", validateErr: "keys[0]: key_sha256 must be 64 hex characters"},
		{id: "bearerauth/empty_key", validateErr: "keys[0]: key or key_sha256 is required"},
		{id: "bearerauth/no_project", validateErr: "keys[0]: project is required"},
		{id: "bearerauth/bad_role", validateErr: `keys[0]: role "owner" is not supported`},
		{id: "bearerauth/duplicate", validateErr: "keys[1]: same key as keys[0]"},
		{id: "bearerauth/no_keys", validateErr: "keys: no keys configured and keys_file is empty"},
		{id: "bearerauth/bad_reload", validateErr: "reload_interval: must be positive"},
		{id: "bearerauth/unknown_field", unmarshalErr: "keyfile"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			sub, err := cm.Sub(tt.id)
			require.NoError(t, err)
			cfg := createDefaultConfig().(*Config)
			err = sub.Unmarshal(cfg)
			if tt.unmarshalErr != "" {
				require.ErrorContains(t, err, tt.unmarshalErr)
				return
			}
			require.NoError(t, err)
			err = confmap.Validate(cfg)
			if tt.validateErr != "" {
				require.ErrorContains(t, err, tt.validateErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestConfig_PlainKeyIsRedactedWhenMarshalled(t *testing.T) {
	const secret = "th_secret_value_that_must_not_print"
	cfg := &Config{Keys: []KeyConfig{{Key: secret, Project: "p"}}}
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	dump := fmt.Sprint(conf.ToStringMap())
	assert.Contains(t, dump, "[REDACTED]")
	assert.NotContains(t, dump, secret)
}
