package bearerauthextension

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/tracehound/tracehound/internal/apikeys"
)

// Config of the bearerauth extension. The zero-configuration default ({}) reads
// ./data/keys.yaml and, when there are no keys at all, generates one.
type Config struct {
	// Keys are accepted in addition to those in KeysFile.
	Keys []KeyConfig `mapstructure:"keys"`
	// KeysFile holds more keys (YAML or JSON) and is re-read every ReloadInterval;
	// empty disables the file.
	KeysFile string `mapstructure:"keys_file"`
	// GenerateKeyIfEmpty makes the first start with no keys at all create one, store
	// its hash in KeysFile and print the key once to stderr.
	GenerateKeyIfEmpty bool `mapstructure:"generate_key_if_empty"`
	// ReloadInterval is how often KeysFile is checked for changes.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	_ struct{}
}

// KeyConfig is one inline key: exactly one of Key and KeySHA256.
type KeyConfig struct {
	// Key is the plain key, typically ${env:TRACEHOUND_API_KEY}; hashed at load.
	Key configopaque.String `mapstructure:"key"`
	// KeySHA256 is the hex SHA-256 of the key.
	KeySHA256 string `mapstructure:"key_sha256"`
	// Project is the project ID that requests with this key are attributed to.
	Project string `mapstructure:"project"`
	// Name identifies the key in logs and in client.Info auth data.
	Name string `mapstructure:"name"`
	// Role is "" or "admin".
	Role string `mapstructure:"role"`
}

var _ component.Config = (*Config)(nil)

func (k KeyConfig) entry() apikeys.Entry {
	return apikeys.Entry{
		Key:       string(k.Key),
		KeySHA256: k.KeySHA256,
		Project:   k.Project,
		Name:      k.Name,
		Role:      k.Role,
	}
}

func (c *Config) entries() []apikeys.Entry {
	entries := make([]apikeys.Entry, len(c.Keys))
	for i, k := range c.Keys {
		entries[i] = k.entry()
	}
	return entries
}

// Validate checks the inline keys and the file settings; errors name the field.
func (c *Config) Validate() error {
	if _, err := apikeys.Resolve(c.entries()); err != nil {
		return err
	}
	if c.KeysFile == "" && len(c.Keys) == 0 {
		return errors.New("keys: no keys configured and keys_file is empty: set keys, or keys_file (default " + apikeys.DefaultFile + ")")
	}
	if c.KeysFile != "" && c.ReloadInterval <= 0 {
		return fmt.Errorf("reload_interval: must be positive, got %s", c.ReloadInterval)
	}
	return nil
}
