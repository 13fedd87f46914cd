package botcadence

import "context"

// AdminService is the operator API (/admin/v1): the client's key must be the daemon's admin
// token.
//
//	admin := botcadence.NewClient(os.Getenv("BOTCADENCE_ADMIN_TOKEN"))
//	acct, err := admin.Admin.Accounts.Create(&botcadence.CreateAccountParams{Name: "acme", Plan: botcadence.PlanPro})
//
// These POSTs are not deduplicated by the daemon, so they are retried only when it certainly
// did nothing (connection refused, 408, 429, 503), never after a lost answer.
type AdminService struct {
	Accounts *AccountsService
	APIKeys  *AdminAPIKeysService
}

// AccountsService manages accounts (operator API).
type AccountsService struct{ c *Client }

// List returns every account.
func (s *AccountsService) List(opts ...Option) (*AccountList, error) {
	return s.ListContext(context.Background(), opts...)
}

// ListContext returns every account.
func (s *AccountsService) ListContext(ctx context.Context, opts ...Option) (*AccountList, error) {
	out := new(AccountList)
	if err := s.c.doJSON(ctx, &request{method: "GET", path: "/admin/v1/accounts"}, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Create creates an account.
func (s *AccountsService) Create(params *CreateAccountParams, opts ...Option) (*Account, error) {
	return s.CreateContext(context.Background(), params, opts...)
}

// CreateContext creates an account.
func (s *AccountsService) CreateContext(ctx context.Context, params *CreateAccountParams, opts ...Option) (*Account, error) {
	out := new(Account)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/admin/v1/accounts", body: bodyOf(params)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns an account.
func (s *AccountsService) Get(id string, opts ...Option) (*Account, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns an account.
func (s *AccountsService) GetContext(ctx context.Context, id string, opts ...Option) (*Account, error) {
	out := new(Account)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/admin/v1/accounts/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update changes an account's name, plan or custom limits.
func (s *AccountsService) Update(id string, params *UpdateAccountParams, opts ...Option) (*Account, error) {
	return s.UpdateContext(context.Background(), id, params, opts...)
}

// UpdateContext changes an account's name, plan or custom limits.
func (s *AccountsService) UpdateContext(ctx context.Context, id string, params *UpdateAccountParams, opts ...Option) (*Account, error) {
	out := new(Account)
	err := s.c.doJSON(ctx, &request{method: "PATCH", path: "/admin/v1/accounts/" + pathEscape(id),
		body: bodyOf(params)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateAPIKey creates an API key for an account (params may be nil); its Key is shown only
// in this answer.
func (s *AccountsService) CreateAPIKey(accountID string, params *CreateAPIKeyParams, opts ...Option) (*APIKey, error) {
	return s.CreateAPIKeyContext(context.Background(), accountID, params, opts...)
}

// CreateAPIKeyContext creates an API key for an account.
func (s *AccountsService) CreateAPIKeyContext(ctx context.Context, accountID string, params *CreateAPIKeyParams, opts ...Option) (*APIKey, error) {
	out := new(APIKey)
	err := s.c.doJSON(ctx, &request{method: "POST",
		path: "/admin/v1/accounts/" + pathEscape(accountID) + "/api-keys", body: bodyOf(params)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AdminAPIKeysService revokes any account's keys (operator API).
type AdminAPIKeysService struct{ c *Client }

// Revoke revokes an API key at once.
func (s *AdminAPIKeysService) Revoke(id string, opts ...Option) error {
	return s.RevokeContext(context.Background(), id, opts...)
}

// RevokeContext revokes an API key at once.
func (s *AdminAPIKeysService) RevokeContext(ctx context.Context, id string, opts ...Option) error {
	return s.c.doJSON(ctx, &request{method: "DELETE", path: "/admin/v1/api-keys/" + pathEscape(id)}, nil, opts)
}
