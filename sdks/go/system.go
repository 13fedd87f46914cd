package botcadence

import "context"

// SystemService reads the daemon's probes, metrics and API description (no key needed).
type SystemService struct{ c *Client }

// Health answers when the process runs (GET /healthz).
func (s *SystemService) Health(opts ...Option) (*Health, error) {
	return s.HealthContext(context.Background(), opts...)
}

// HealthContext is Health within ctx.
func (s *SystemService) HealthContext(ctx context.Context, opts ...Option) (*Health, error) {
	out := new(Health)
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/healthz", anonymous: true}, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Readiness answers when the store writes and the engine answers (GET /readyz); a daemon
// that is not ready returns a *Error with Status 503 saying why.
func (s *SystemService) Readiness(opts ...Option) (*Health, error) {
	return s.ReadinessContext(context.Background(), opts...)
}

// ReadinessContext is Readiness within ctx.
func (s *SystemService) ReadinessContext(ctx context.Context, opts ...Option) (*Health, error) {
	out := new(Health)
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/readyz", anonymous: true}, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Metrics returns the Prometheus text exposition (GET /metrics).
func (s *SystemService) Metrics(opts ...Option) (string, error) {
	return s.MetricsContext(context.Background(), opts...)
}

// MetricsContext is Metrics within ctx.
func (s *SystemService) MetricsContext(ctx context.Context, opts ...Option) (string, error) {
	var out string
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/metrics", anonymous: true},
		&out, append([]Option{WithHeader("Accept", "text/plain")}, opts...))
	return out, err
}

// OpenAPI returns the daemon's OpenAPI 3.1 document (GET /openapi.json).
func (s *SystemService) OpenAPI(opts ...Option) (map[string]interface{}, error) {
	return s.OpenAPIContext(context.Background(), opts...)
}

// OpenAPIContext is OpenAPI within ctx.
func (s *SystemService) OpenAPIContext(ctx context.Context, opts ...Option) (map[string]interface{}, error) {
	var out map[string]interface{}
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/openapi.json", anonymous: true}, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}
