package pathaliasextension

import (
	"errors"
	"fmt"
	"strings"
)

// Config lists the URL path prefixes to strip before the wrapped server routes a request.
type Config struct {
	// StripPrefixes are removed from the start of request paths: with "/otel", a request
	// to /otel/v1/traces is served as /v1/traces.
	StripPrefixes []string `mapstructure:"strip_prefixes"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	for i, p := range c.StripPrefixes {
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || len(p) < 2 {
			errs = append(errs, fmt.Errorf("strip_prefixes[%d]: %q must start with / and not end with / (e.g. /otel)", i, p))
		}
	}
	return errors.Join(errs...)
}
