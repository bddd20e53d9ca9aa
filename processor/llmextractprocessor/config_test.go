package llmextractprocessor

import (
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestConfig_LoadAndValidate(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        component.ID
		want      *Config
		errSubstr string
	}{
		{id: component.NewID(componentType), want: createDefaultConfig()},
		{id: component.NewIDWithName(componentType, "custom"), want: &Config{
			KeepOriginalAttributes: false,
			MaxAttributeBytes:      65536,
			DefaultProject:         "team-a",
			RunIDKeys:              []string{"app.batch_id", "ci.pipeline_id"},
			PricesFile:             "testdata/prices.yaml",
		}},
		{id: component.NewIDWithName(componentType, "bad_max"), errSubstr: "max_attribute_bytes"},
		{id: component.NewIDWithName(componentType, "bad_project"), errSubstr: "default_project"},
		{id: component.NewIDWithName(componentType, "bad_prices"), errSubstr: "prices_file"},
		{id: component.NewIDWithName(componentType, "unknown_key"), errSubstr: "max_attribute_byte"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			if err != nil {
				t.Fatal(err)
			}
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSubstr) {
					t.Fatalf("error = %v, want one naming %q", err, tt.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.(*Config)
			if got.KeepOriginalAttributes != tt.want.KeepOriginalAttributes || got.MaxAttributeBytes != tt.want.MaxAttributeBytes ||
				got.DefaultProject != tt.want.DefaultProject || got.PricesFile != tt.want.PricesFile ||
				strings.Join(got.RunIDKeys, ",") != strings.Join(tt.want.RunIDKeys, ",") {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfig_StructIsValidForCollector(t *testing.T) {
	if err := componenttest.CheckConfigStruct(createDefaultConfig()); err != nil {
		t.Fatal(err)
	}
}

func TestConfig_RejectsEmptyRunIDKey(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.RunIDKeys = []string{"ok", " "}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "run_id_keys[1]") {
		t.Fatalf("error = %v", err)
	}
}
