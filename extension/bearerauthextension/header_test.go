package bearerauthextension

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyFromHeaders(t *testing.T) {
	const key = "th_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	tests := []struct {
		name    string
		headers map[string][]string
		want    string
		wantErr error
	}{
		{name: "HTTP canonical Authorization", headers: map[string][]string{"Authorization": {"Bearer " + key}}, want: key},
		{name: "gRPC lower-case authorization", headers: map[string][]string{"authorization": {"Bearer " + key}}, want: key},
		{name: "odd header case", headers: map[string][]string{"AUTHORIZATION": {"Bearer " + key}}, want: key},
		{name: "scheme in lower case", headers: map[string][]string{"authorization": {"bearer " + key}}, want: key},
		{name: "scheme in upper case", headers: map[string][]string{"authorization": {"BEARER " + key}}, want: key},
		{name: "extra spaces and tab", headers: map[string][]string{"Authorization": {"  Bearer \t " + key + "  "}}, want: key},
		{name: "undecoded Bearer%20", headers: map[string][]string{"Authorization": {"Bearer%20" + key}}, want: key},
		{name: "undecoded bearer%20 in lower case", headers: map[string][]string{"authorization": {"bearer%20" + key}}, want: key},
		{name: "first non-empty value wins", headers: map[string][]string{"authorization": {"", "Bearer " + key, "Bearer other"}}, want: key},
		{name: "x-tracehound-api-key raw", headers: map[string][]string{"x-tracehound-api-key": {key}}, want: key},
		{name: "X-Tracehound-Api-Key canonical", headers: map[string][]string{"X-Tracehound-Api-Key": {key}}, want: key},
		{name: "x-scorecard-api-key raw", headers: map[string][]string{"X-Scorecard-Api-Key": {key}}, want: key},
		{name: "dedicated header wins over provider's Authorization", headers: map[string][]string{
			"Authorization":        {"Bearer sk-provider-key"},
			"X-Tracehound-Api-Key": {key},
		}, want: key},
		{name: "tracehound header wins over scorecard header", headers: map[string][]string{
			"x-scorecard-api-key":  {"other"},
			"x-tracehound-api-key": {key},
		}, want: key},
		{name: "blank dedicated header falls back to Authorization", headers: map[string][]string{
			"X-Tracehound-Api-Key": {"  "},
			"Authorization":        {"Bearer " + key},
		}, want: key},
		{name: "no headers", headers: map[string][]string{}, wantErr: errNoKey},
		{name: "nil headers", headers: nil, wantErr: errNoKey},
		{name: "other headers only", headers: map[string][]string{"Content-Type": {"application/x-protobuf"}}, wantErr: errNoKey},
		{name: "empty Authorization", headers: map[string][]string{"Authorization": {""}}, wantErr: errNoKey},
		{name: "Authorization without values", headers: map[string][]string{"Authorization": {}}, wantErr: errNoKey},
		{name: "scheme only", headers: map[string][]string{"Authorization": {"Bearer"}}, wantErr: errNoKey},
		{name: "scheme and spaces only", headers: map[string][]string{"Authorization": {"Bearer    "}}, wantErr: errNoKey},
		{name: "Bearer%20 without key", headers: map[string][]string{"Authorization": {"Bearer%20"}}, wantErr: errNoKey},
		{name: "Basic scheme", headers: map[string][]string{"Authorization": {"Basic dXNlcjpwYXNz"}}, wantErr: errBadScheme},
		{name: "raw key in Authorization", headers: map[string][]string{"Authorization": {key}}, wantErr: errBadScheme},
		{name: "scheme glued to key", headers: map[string][]string{"Authorization": {"Bearer" + key}}, wantErr: errBadScheme},
		{name: "Bearer+ form encoding", headers: map[string][]string{"Authorization": {"Bearer+" + key}}, wantErr: errBadScheme},
		{name: "short value", headers: map[string][]string{"Authorization": {"Bea"}}, wantErr: errBadScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyFromHeaders(tt.headers)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestKeyFromHeaders_NetHTTPHeader(t *testing.T) {
	h := http.Header{}
	h.Set("x-tracehound-api-key", "th_from_net_http")
	got, err := keyFromHeaders(h)
	require.NoError(t, err)
	assert.Equal(t, "th_from_net_http", got)
}

func TestErrors_DoNotEchoTheKey(t *testing.T) {
	const secret = "th_secret_never_echoed"
	for _, v := range []string{secret, "Basic " + secret, "Bearer" + secret} {
		_, err := keyFromHeaders(map[string][]string{"authorization": {v}})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, err.Error(), "never_echoed")
	}
}

// FuzzParseBearer checks that any Authorization value either yields a clean key that
// it contains, or one of the fixed errors, which never carry the input.
func FuzzParseBearer(f *testing.F) {
	for _, seed := range []string{"Bearer th_abc", "bearer%20th_abc", "Basic x", "Bearer", "Bearer \t ", "BEARER  k  ", "%20", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		key, err := parseBearer(value)
		if err != nil {
			if !errors.Is(err, errNoKey) && !errors.Is(err, errBadScheme) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if key == "" || strings.TrimSpace(key) != key || !strings.Contains(value, key) {
			t.Fatalf("parseBearer(%q) = %q", value, key)
		}
	})
}
