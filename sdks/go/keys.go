package botcadence

import "context"

// APIKeysService manages the account's own API keys.
type APIKeysService struct{ c *Client }

// List returns the account's keys (prefixes only).
func (s *APIKeysService) List(opts ...Option) (*APIKeyList, error) {
	return s.ListContext(context.Background(), opts...)
}

// ListContext returns the account's keys (prefixes only).
func (s *APIKeysService) ListContext(ctx context.Context, opts ...Option) (*APIKeyList, error) {
	out := new(APIKeyList)
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/api-keys"}, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Create creates a key (params may be nil); its Key is shown only in this answer.
func (s *APIKeysService) Create(params *CreateAPIKeyParams, opts ...Option) (*APIKey, error) {
	return s.CreateContext(context.Background(), params, opts...)
}

// CreateContext creates a key (with an Idempotency-Key: retries create one only).
func (s *APIKeysService) CreateContext(ctx context.Context, params *CreateAPIKeyParams, opts ...Option) (*APIKey, error) {
	out := new(APIKey)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/api-keys", body: bodyOf(params),
		idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete revokes a key at once.
func (s *APIKeysService) Delete(id string, opts ...Option) error {
	return s.DeleteContext(context.Background(), id, opts...)
}

// DeleteContext revokes a key at once.
func (s *APIKeysService) DeleteContext(ctx context.Context, id string, opts ...Option) error {
	return s.c.doJSON(ctx, &request{method: "DELETE", path: "/v1/api-keys/" + pathEscape(id)}, nil, opts)
}

// SigningSecretService reads and rotates the secret that signs outgoing http_request calls.
type SigningSecretService struct{ c *Client }

// Get returns the account's signing secret.
func (s *SigningSecretService) Get(opts ...Option) (*SigningSecret, error) {
	return s.GetContext(context.Background(), opts...)
}

// GetContext returns the account's signing secret.
func (s *SigningSecretService) GetContext(ctx context.Context, opts ...Option) (*SigningSecret, error) {
	out := new(SigningSecret)
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/signing-secret"}, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Rotate replaces the signing secret; the old one stops signing at once.
func (s *SigningSecretService) Rotate(opts ...Option) (*SigningSecret, error) {
	return s.RotateContext(context.Background(), opts...)
}

// RotateContext replaces the signing secret (with an Idempotency-Key: a retry after a lost
// answer returns the same new secret instead of rotating twice).
func (s *SigningSecretService) RotateContext(ctx context.Context, opts ...Option) (*SigningSecret, error) {
	out := new(SigningSecret)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/signing-secret/rotate",
		idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}
