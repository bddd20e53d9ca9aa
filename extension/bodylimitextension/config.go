package bodylimitextension

import "fmt"

// Config sets the request body limit that is answered with 413.
type Config struct {
	// MaxRequestBodySize is the largest request body, in bytes, let through. Keep it equal to
	// the wrapped server's max_request_body_size (confighttp's default is 20 MiB).
	MaxRequestBodySize int64 `mapstructure:"max_request_body_size"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxRequestBodySize <= 0 {
		return fmt.Errorf("max_request_body_size: must be positive, got %d", c.MaxRequestBodySize)
	}
	return nil
}
