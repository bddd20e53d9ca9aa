package main

import (
	"strings"
	"testing"
)

func TestWithDefaultConfig(t *testing.T) {
	noenv := func(string) string { return "" }
	tests := []struct {
		args        []string
		wantDefault bool
	}{
		{[]string{"tracehound"}, true},
		{[]string{"tracehound", "--feature-gates=foo"}, true},
		{[]string{"tracehound", "--config", "my.yaml"}, false},
		{[]string{"tracehound", "--config=my.yaml"}, false},
		{[]string{"tracehound", "validate", "--config=my.yaml"}, false},
		{[]string{"tracehound", "components"}, false},
		{[]string{"tracehound", "keys", "list"}, false},
		{[]string{"tracehound", "--help"}, false},
		{[]string{"tracehound", "--version"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := withDefaultConfig(tt.args, noenv)
			added := len(got) == len(tt.args)+1 && strings.HasPrefix(got[len(got)-1], "--config=yaml:")
			if added != tt.wantDefault {
				t.Fatalf("withDefaultConfig(%q) = %q, want default config added: %v", tt.args, got, tt.wantDefault)
			}
			if !added && strings.Join(got, " ") != strings.Join(tt.args, " ") {
				t.Fatalf("arguments changed: %q", got)
			}
		})
	}
}

func TestDefaultConfig_ListensOnLoopbackOnly(t *testing.T) {
	for _, want := range []string{"127.0.0.1:4317", "127.0.0.1:4318", "127.0.0.1:8080"} {
		if !strings.Contains(defaultConfig, want) {
			t.Errorf("default config does not listen on %s", want)
		}
	}
	if strings.Contains(defaultConfig, "0.0.0.0") {
		t.Error("default config listens on all interfaces")
	}
}
