// Package llmproxyreceiver is an OpenAI- and Anthropic-compatible reverse proxy that
// forwards each call to a configured provider and emits one gen_ai span per call.
package llmproxyreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

var componentType = component.MustNewType("llmproxy")

const stability = component.StabilityLevelAlpha

// NewFactory returns the factory of the llmproxy receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		componentType,
		createDefaultConfig,
		receiver.WithTraces(createTraces, stability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	// A streamed completion can run for many minutes; a whole-response write
	// deadline would cut it off.
	server.WriteTimeout = 0
	server.ReadHeaderTimeout = 30 * time.Second
	return &Config{
		ServerConfig: server,
		Upstreams: map[string]UpstreamConfig{
			apiOpenAI:    {URL: defaultOpenAIURL, API: apiOpenAI},
			apiAnthropic: {URL: defaultAnthropicURL, API: apiAnthropic},
		},
		Passthrough:         true,
		MaxRequestBodyBytes: defaultMaxRequestBodyBytes,
		MaxCaptureBytes:     defaultMaxCaptureBytes,
		Queue: QueueConfig{
			Size:     defaultQueueSize,
			MaxBytes: defaultQueueMaxBytes,
			Workers:  defaultQueueWorkers,
		},
	}
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	return newProxyReceiver(cfg.(*Config), set, next)
}
