package jwt

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// FetchJWKS downloads the key set at path, relative to Config.IssuerURL
// (such as "/.well-known/jwks.json"), once, with [FetchKeySet] and
// Config.HTTPClient, and makes it the set consulted for keys that the local
// keys do not hold. It is the start-up fetch of an Auth built with
// Config.AwaitJWKS. The swap is atomic: requests in flight use the old keys
// or the new ones, never a mix, so FetchJWKS may run while the Auth serves.
// On error the keys in use are unchanged.
//
// Use [NewRemoteKeySet] as Config.KeySet instead for keys that rotate.
func (e *engine) FetchJWKS(ctx context.Context, path string) error {
	if e.issuer == "" {
		return errors.New("jwt: FetchJWKS needs Config.IssuerURL")
	}
	if strings.Contains(path, "://") {
		return errors.New("jwt: FetchJWKS takes a path relative to Config.IssuerURL, not a URL")
	}
	url := strings.TrimRight(e.issuer, "/") + "/" + strings.TrimLeft(path, "/")
	set, err := FetchKeySet(ctx, e.client, url)
	if err != nil {
		return fmt.Errorf("jwt: FetchJWKS: %w", err)
	}
	e.keys.Store(&keyring{local: e.local, set: set})
	return nil
}
