package jwt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/typedauth/auth"
)

// Limits applied to every download of a key set or discovery document.
const (
	// DefaultFetchTimeout bounds one download when no shorter limit is set
	// by the context, the HTTP client or [RemoteOptions.FetchTimeout].
	DefaultFetchTimeout = 10 * time.Second

	// DefaultMaxBodyBytes is the largest response body read from a key
	// server (1 MiB). A larger body is an error, not a truncated set.
	DefaultMaxBodyBytes int64 = 1 << 20

	// maxRedirects is the redirect limit of the default client, as in
	// net/http.
	maxRedirects = 10
)

// Errors of the fetching functions. Every failure to obtain a key set from
// its server matches [ErrKeySetUnavailable] (and so [auth.ErrUnavailable],
// status 503); configuration mistakes such as a plain-http URL do not.
var (
	// ErrKeySetUnavailable means a key set (or a discovery document) could
	// not be downloaded or used: a network error, a timeout, a status other
	// than 200, an oversized or unparsable body, or a set without a single
	// usable key. It is an [auth.ErrUnavailable].
	ErrKeySetUnavailable = fmt.Errorf("%w: key set unavailable", auth.ErrUnavailable)

	// ErrInsecureURL means a key set or discovery URL, given or reached by
	// a redirect, is not https. Plain http is accepted only for loopback
	// hosts (127.0.0.0/8, ::1, localhost) unless an Insecure option says
	// otherwise; redirects must always lead to https.
	ErrInsecureURL = errors.New("jwt: URL is not https")

	// ErrBodyTooLarge means a key server sent more than the allowed number
	// of bytes.
	ErrBodyTooLarge = errors.New("jwt: response body too large")
)

// FetchKeySet downloads the JSON Web Key Set (RFC 7517) at url once and
// returns it as a [MemoryKeySet], parsed as by [ParseKeySet]. It is what a
// service uses to load an issuer's public keys at start-up, before it builds
// its [Auth]; use [NewRemoteKeySet] for a set that follows key rotation.
//
// A nil client means a client with a [DefaultFetchTimeout] timeout. Whatever
// the client, the download is bounded by ctx and by [DefaultFetchTimeout],
// its body by [DefaultMaxBodyBytes] (a larger body is an error), the
// status must be 200, and redirects are followed only to https URLs, on
// any host (the client's own CheckRedirect, if any, is consulted after
// that, and may restrict hosts). url itself must be https, or http on a
// loopback host.
//
// Every error returned matches [ErrKeySetUnavailable] except an invalid or
// insecure url ([ErrInsecureURL]).
func FetchKeySet(ctx context.Context, client *http.Client, url string) (*MemoryKeySet, error) {
	u, err := checkFetchURL(url, false)
	if err != nil {
		return nil, err
	}
	body, err := fetchDocument(ctx, u, oneShot(client))
	if err != nil {
		return nil, err
	}
	s, err := ParseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("%w: jwt: key set at %s: %w", ErrKeySetUnavailable, u.Redacted(), err)
	}
	return s, nil
}

// checkFetchURL parses a key server URL and refuses anything but https,
// unless it is http on a loopback host or allowHTTP is set.
func checkFetchURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("jwt: invalid URL: %w", err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || loopbackHost(u.Hostname())):
	default:
		return nil, fmt.Errorf("%w: %s", ErrInsecureURL, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("jwt: URL %s has no host", u.Redacted())
	}
	return u, nil
}

// loopbackHost reports whether host names this machine without DNS.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hardenClient returns a copy of c (or a new client with the given timeout
// when c is nil) that refuses any redirect to a URL that is not https, then
// defers to c's CheckRedirect (or to net/http's limit of ten redirects).
func hardenClient(c *http.Client, timeout time.Duration) *http.Client {
	cp := http.Client{Timeout: timeout}
	if c != nil {
		cp = *c
	}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		switch {
		case req.URL.Scheme != "https":
			return fmt.Errorf("%w: redirect to %s", ErrInsecureURL, req.URL.Redacted())
		case next != nil:
			return next(req, via)
		case len(via) >= maxRedirects:
			return fmt.Errorf("jwt: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &cp
}

// oneShot returns the options of the one-off downloads of FetchKeySet and
// Discover.
func oneShot(client *http.Client) *RemoteOptions {
	return &RemoteOptions{Client: hardenClient(client, DefaultFetchTimeout), FetchTimeout: DefaultFetchTimeout, MaxBodyBytes: DefaultMaxBodyBytes}
}

// fetchDocument GETs u with o's client within o.FetchTimeout and returns its
// body. It requires status 200 and at most o.MaxBodyBytes of body. Every
// error matches ErrKeySetUnavailable.
func fetchDocument(ctx context.Context, u *url.URL, o *RemoteOptions) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, o.FetchTimeout)
	defer cancel()
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("%w: jwt: GET %s: %w", ErrKeySetUnavailable, u.Redacted(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := o.Client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("jwt: unexpected status %d", resp.StatusCode))
	}
	maxBytes := o.MaxBodyBytes
	if resp.ContentLength > maxBytes {
		return fail(fmt.Errorf("%w: %d bytes announced, limit %d", ErrBodyTooLarge, resp.ContentLength, maxBytes))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(body)) > maxBytes {
		return fail(fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, maxBytes))
	}
	return body, nil
}
