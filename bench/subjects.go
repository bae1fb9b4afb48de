package bench

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-chi/jwtauth/v5"
	gojwt "github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// claimsKey carries the claims from the middlewares written here to their
// handlers.
type claimsKey struct{}

// bearerToken is the header extraction of the middlewares written here:
// typedauth's own, so that the bare parser differs from typedauth only in
// what follows it.
func bearerToken(r *http.Request) (string, bool) {
	raw, err := auth.ParseAuthorization(r.Header, "Bearer")
	return raw, err == nil
}

// keySetFunc returns a golang-jwt key function backed by a MicahParks
// keyfunc remote set, the usual JWKS companion of golang-jwt.
func keySetFunc(ctx context.Context, e *Env, s Scenario) (gojwt.Keyfunc, error) {
	k, err := keyfunc.NewDefaultCtx(ctx, []string{e.JWKSURL(s)})
	if err != nil {
		return nil, err
	}
	return k.Keyfunc, nil
}

func bare() Subject {
	return Subject{
		Name:  "golang-jwt",
		Title: "golang-jwt/jwt v5, bare parser (base)",
		Base:  true,
		Notes: "A parser built once with WithValidMethods, WithIssuer, WithAudience and WithExpirationRequired; " +
			"ParseWithClaims into MapClaims in a minimal middleware that extracts the bearer token as typedauth does " +
			"and passes the claims in the request context. Remote sets: MicahParks/keyfunc v3. " +
			"Scopes: checked in the handler.",
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			key := e.VerifyKey(s)
			kf := func(*gojwt.Token) (any, error) { return key, nil }
			if s.JWKS != 0 {
				var err error
				if kf, err = keySetFunc(ctx, e, s); err != nil {
					return nil, err
				}
			}
			p := gojwt.NewParser(gojwt.WithValidMethods([]string{s.Alg}), gojwt.WithIssuer(Issuer),
				gojwt.WithAudience(Audience), gojwt.WithExpirationRequired())
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answerClaims(w, r.Context().Value(claimsKey{}).(gojwt.MapClaims), s.Required)
			})
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, ok := bearerToken(r)
				if !ok {
					deny(w, http.StatusUnauthorized)
					return
				}
				claims := gojwt.MapClaims{}
				if _, err := p.ParseWithClaims(raw, claims, kf); err != nil {
					deny(w, http.StatusUnauthorized)
					return
				}
				handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
			}), nil
		},
	}
}

// floor is not an authenticator: it is what any middleware pays to hand
// claims to a handler through net/http, the floor under every subject.
func floor() Subject {
	return Subject{
		Name:  "floor",
		Title: "net/http alone, no verification (floor)",
		Notes: "Not an authenticator: a middleware that extracts the bearer token as typedauth does, then " +
			"hands the handler a copy (maps.Clone) of a claims map decoded once when it is built, through the " +
			"request context, as every subject hands its principal; it verifies nothing. The difference between " +
			"a subject and this row is what the subject's checks cost.",
		Lacks: []Token{BadSignature, Expired, ForeignIssuer, ForeignAudience, MissingScope},
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			tok, err := e.Token(s, Valid)
			if err != nil {
				return nil, err
			}
			decoded := gojwt.MapClaims{}
			if _, _, err := gojwt.NewParser().ParseUnverified(tok, decoded); err != nil {
				return nil, err
			}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				claims := r.Context().Value(claimsKey{}).(gojwt.MapClaims)
				sub, _ := claims["sub"].(string)
				respond(w, sub)
			})
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if raw, ok := bearerToken(r); !ok || raw == "" {
					deny(w, http.StatusUnauthorized)
					return
				}
				claims := maps.Clone(decoded)
				handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
			}), nil
		},
	}
}

func typedauthUncached() Subject {
	return typedauthSubject("typedauth", "typedauth jwt, uncached",
		"jwt.MustNew(jwt.Config{…}).Guard, or .Requires(scopes…).Guard; the handler reads sub from "+
			"auth.From[auth.Claims]. Remote sets: jwt.NewRemoteKeySet. Scopes: Requires, with the default "+
			"hierarchical validator.")
}

func typedauthCached() Subject {
	return typedauthSubject("typedauth-cached", "typedauth jwt, cached", "As uncached typedauth, with "+
		"jwt.WithCache(jwt.CacheOptions{}): the same token repeated, so every measured request is a hit "+
		"(exp, nbf and iat checked again, the key's presence checked, a copy of the claims map handed out).",
		jwt.WithCache(jwt.CacheOptions{}))
}

// typedauthSubject is the subject of package jwt with opts.
func typedauthSubject(name, title, notes string, opts ...jwt.Option) Subject {
	return Subject{
		Name:  name,
		Title: title,
		Notes: notes,
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			cfg, err := typedauthConfig(ctx, e, s)
			if err != nil {
				return nil, err
			}
			a, err := jwt.New(cfg, opts...)
			if err != nil {
				return nil, err
			}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				claims, _ := auth.From[auth.Claims](r.Context())
				sub, _ := claims["sub"].(string)
				respond(w, sub)
			})
			if len(s.Required) > 0 {
				return a.Requires(s.Required...).Guard(handler), nil
			}
			return a.Guard(handler), nil
		},
	}
}

// typedClaims is the claims struct of the typed subject.
type typedClaims struct {
	jwt.RegisteredClaims
}

func typedauthTypedCached() Subject {
	return Subject{
		Name:  "typedauth-typed-cached",
		Title: "typedauth jwt, typed claims, cached",
		Notes: "jwt.MustNewTyped[Claims](jwt.Config{…}, jwt.WithCache(jwt.CacheOptions{})), where Claims embeds " +
			"jwt.RegisteredClaims; the handler reads Subject from auth.From[Claims]. Every measured request is a " +
			"hit, which hands out a deep copy of the cached struct (its *NumericDate times and aud slice copied).",
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			cfg, err := typedauthConfig(ctx, e, s)
			if err != nil {
				return nil, err
			}
			a, err := jwt.NewTyped[typedClaims](cfg, jwt.WithCache(jwt.CacheOptions{}))
			if err != nil {
				return nil, err
			}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				claims, _ := auth.From[typedClaims](r.Context())
				respond(w, claims.Subject)
			})
			if len(s.Required) > 0 {
				return a.Requires(s.Required...).Guard(handler), nil
			}
			return a.Guard(handler), nil
		},
	}
}

// typedauthConfig is the jwt.Config of the typedauth subjects for s.
func typedauthConfig(ctx context.Context, e *Env, s Scenario) (jwt.Config, error) {
	cfg := jwt.Config{Algorithms: []string{s.Alg}, IssuerURL: Issuer, Audience: []string{Audience}}
	switch secret, ok := e.VerifyKey(s).([]byte); {
	case s.JWKS != 0:
		set, err := jwt.NewRemoteKeySet(ctx, e.JWKSURL(s), jwt.RemoteOptions{Client: e.Client()})
		if err != nil {
			return cfg, err
		}
		cfg.KeySet = set
	case ok:
		cfg.Secret, cfg.KeyID = secret, e.KeyID(s)
	default:
		cfg.Key, cfg.KeyID = e.VerifyKey(s), e.KeyID(s)
	}
	return cfg, nil
}

// auth0Claims is the custom claims type of Auth0's documentation, with its
// HasScope method called by the handler.
type auth0Claims struct {
	Scope string `json:"scope"`
}

// Validate implements validator.CustomClaims; the scope is checked per
// route by the handler, as Auth0's guide does.
func (c *auth0Claims) Validate(context.Context) error { return nil }

func auth0Middleware() Subject {
	return Subject{
		Name:  "auth0",
		Title: "auth0/go-jwt-middleware v2",
		Notes: "validator.New(keyFunc, alg, issuer, audience) checks iss, aud and exp itself (it accepts a token " +
			"without exp, which these tokens never are); CheckJWT with the default extractor and error handler. " +
			"Remote sets: jwks.NewCachingProvider with the set's URL. Scopes: a custom claims type decoded with " +
			"every token (only on routes that require scopes), checked in the handler as Auth0's guide does.",
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			key := e.VerifyKey(s)
			keyFunc := func(context.Context) (any, error) { return key, nil }
			if s.JWKS != 0 {
				issuer, err := url.Parse(Issuer)
				if err != nil {
					return nil, err
				}
				set, err := url.Parse(e.JWKSURL(s))
				if err != nil {
					return nil, err
				}
				p := jwks.NewCachingProvider(issuer, 5*time.Minute, jwks.WithCustomJWKSURI(set), jwks.WithCustomClient(e.Client()))
				keyFunc = p.KeyFunc
			}
			var opts []validator.Option
			if len(s.Required) > 0 {
				opts = append(opts, validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }))
			}
			v, err := validator.New(keyFunc, validator.SignatureAlgorithm(s.Alg), Issuer, []string{Audience}, opts...)
			if err != nil {
				return nil, err
			}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				claims := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
				if len(s.Required) > 0 && !hasScopes(claims.CustomClaims.(*auth0Claims).Scope, s.Required) {
					deny(w, http.StatusForbidden)
					return
				}
				respond(w, claims.RegisteredClaims.Subject)
			})
			return jwtmiddleware.New(v.ValidateToken).CheckJWT(handler), nil
		},
	}
}

func chiJWTAuth() Subject {
	return Subject{
		Name:  "jwtauth",
		Title: "go-chi/jwtauth v5",
		Notes: "jwtauth.New(alg, nil, key, jwt.WithIssuer, jwt.WithAudience, jwt.WithRequiredClaim(\"exp\")) " +
			"(lestrrat-go/jwx v2 validate options); Verifier then Authenticator; the handler reads the claims " +
			"with jwtauth.FromContext as its README does. Scopes: checked in the handler.",
		Unsupported: func(s Scenario) string {
			if s.JWKS != 0 {
				return "jwtauth.New takes one verification key; it has no key set or JWKS option"
			}
			return ""
		},
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			ja := jwtauth.New(s.Alg, nil, e.VerifyKey(s), jwxjwt.WithIssuer(Issuer), jwxjwt.WithAudience(Audience),
				jwxjwt.WithRequiredClaim("exp"))
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, claims, err := jwtauth.FromContext(r.Context())
				if err != nil {
					deny(w, http.StatusUnauthorized)
					return
				}
				answerClaims(w, claims, s.Required)
			})
			return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(handler)), nil
		},
	}
}

// echoClaims are the claims echo-jwt decodes. echo-jwt passes no parser
// options to golang-jwt, so iss and aud are unchecked by default: Validate
// (golang-jwt's ClaimsValidator, called after its own exp, nbf and iat
// checks) adds them, and requires exp as the bare parser does.
type echoClaims struct {
	gojwt.RegisteredClaims
	Scope string `json:"scope"`
}

var (
	errEchoIssuer   = errors.New("foreign issuer")
	errEchoAudience = errors.New("foreign audience")
	errEchoExp      = errors.New("no exp")
)

// Validate checks iss, aud and the presence of exp.
func (c *echoClaims) Validate() error {
	switch {
	case c.Issuer != Issuer:
		return errEchoIssuer
	case !slices.Contains(c.Audience, Audience):
		return errEchoAudience
	case c.ExpiresAt == nil:
		return errEchoExp
	}
	return nil
}

func echoJWT() Subject {
	return Subject{
		Name:  "echo-jwt",
		Title: "labstack/echo-jwt v4",
		Notes: "echojwt.WithConfig on an echo.Echo route (so the row includes Echo's router and context). " +
			"echo-jwt checks neither iss nor aud by default: NewClaimsFunc returns a claims type whose Validate " +
			"method (golang-jwt's ClaimsValidator) checks iss and aud and requires exp. SigningMethod and " +
			"SigningKey; remote sets: KeyFunc from MicahParks/keyfunc v3. Scopes: checked in the handler.",
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			cfg := echojwt.Config{
				SigningMethod: s.Alg,
				SigningKey:    e.VerifyKey(s),
				NewClaimsFunc: func(echo.Context) gojwt.Claims { return &echoClaims{} },
			}
			if s.JWKS != 0 {
				kf, err := keySetFunc(ctx, e, s)
				if err != nil {
					return nil, err
				}
				cfg.SigningKey, cfg.KeyFunc = nil, kf
			}
			mw, err := cfg.ToMiddleware()
			if err != nil {
				return nil, err
			}
			ec := echo.New()
			ec.GET("/", func(c echo.Context) error {
				claims := c.Get("user").(*gojwt.Token).Claims.(*echoClaims)
				if len(s.Required) > 0 && !hasScopes(claims.Scope, s.Required) {
					return echo.NewHTTPError(http.StatusForbidden)
				}
				respond(c.Response(), claims.Subject)
				return nil
			}, mw)
			return ec, nil
		},
	}
}

// oidcScope is the claim the go-oidc handler decodes to check scopes.
type oidcScope struct {
	Scope string `json:"scope"`
}

func goOIDC() Subject {
	return Subject{
		Name:  "go-oidc",
		Title: "coreos/go-oidc v3",
		Notes: "oidc.NewVerifier(issuer, keySet, &oidc.Config{ClientID: audience, SupportedSigningAlgs: {alg}}) " +
			"checks iss, aud (as the client ID) and exp; a StaticKeySet with the one public key, or " +
			"oidc.NewRemoteKeySet. go-oidc has no middleware: the same minimal one as the bare parser calls " +
			"Verify. Scopes: IDToken.Claims decodes the scope claim and the handler checks it.",
		Unsupported: func(s Scenario) string {
			if s.Alg == "HS256" {
				return "go-oidc verifies with public keys only (RS, PS, ES, EdDSA); it refuses HS256"
			}
			return ""
		},
		Build: func(ctx context.Context, e *Env, s Scenario) (http.Handler, error) {
			var keySet oidc.KeySet
			if s.JWKS != 0 {
				keySet = oidc.NewRemoteKeySet(oidc.ClientContext(ctx, e.Client()), e.JWKSURL(s))
			} else {
				pub, ok := publicKey(e.VerifyKey(s))
				if !ok {
					return nil, fmt.Errorf("go-oidc: %s has no public key", s.Alg)
				}
				keySet = &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}}
			}
			v := oidc.NewVerifier(Issuer, keySet, &oidc.Config{ClientID: Audience, SupportedSigningAlgs: []string{s.Alg}})
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tok := r.Context().Value(claimsKey{}).(*oidc.IDToken)
				if len(s.Required) > 0 {
					var c oidcScope
					if err := tok.Claims(&c); err != nil || !hasScopes(c.Scope, s.Required) {
						deny(w, http.StatusForbidden)
						return
					}
				}
				respond(w, tok.Subject)
			})
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, ok := bearerToken(r)
				if !ok {
					deny(w, http.StatusUnauthorized)
					return
				}
				tok, err := v.Verify(r.Context(), raw)
				if err != nil {
					deny(w, http.StatusUnauthorized)
					return
				}
				handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, tok)))
			}), nil
		},
	}
}
