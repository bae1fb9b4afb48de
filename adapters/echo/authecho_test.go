package authecho_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/echo"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/conformance"
)

func text(c echo.Context, status int, body string) error {
	return c.Blob(status, conformance.ContentType, []byte(body))
}

// newServer builds the conformance routes with Echo and this package.
func newServer(s *conformance.Stack) http.Handler {
	e := echo.New()
	e.GET("/public", func(c echo.Context) error { return text(c, http.StatusOK, conformance.ReplyPublic()) })
	e.GET("/me", func(c echo.Context) error {
		u, ok := authecho.From[conformance.User](c)
		if !ok {
			return text(c, http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(c, http.StatusOK, conformance.ReplyMe(u))
	}, authecho.Middleware(s.Users))
	e.GET("/typed", authecho.Handler(s.Users, func(c echo.Context, u conformance.User) error {
		return text(c, http.StatusOK, conformance.ReplyTyped(u))
	}))
	e.GET("/stages", func(c echo.Context) error {
		claims, okc := authecho.From[auth.Claims](c)
		u, oku := authecho.From[conformance.User](c)
		if !okc || !oku {
			return text(c, http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(c, http.StatusOK, conformance.ReplyStages(claims, u))
	}, authecho.Middleware(s.Users))
	e.GET("/feed", func(c echo.Context) error {
		u, ok := authecho.From[conformance.User](c)
		return text(c, http.StatusOK, conformance.ReplyFeed(u, ok))
	}, authecho.Optional(s.Users))
	e.GET("/reports", func(c echo.Context) error {
		return text(c, http.StatusOK, conformance.ReplyReports(authecho.MustFrom[auth.Claims](c)))
	}, authecho.Middleware(s.Reports))
	e.GET("/service", func(c echo.Context) error {
		key, ok := authecho.From[apikey.Principal](c)
		if !ok {
			return text(c, http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(c, http.StatusOK, conformance.ReplyService(key.Owner))
	}, authecho.Middleware(s.Keys))
	e.GET("/whoami", func(c echo.Context) error {
		return text(c, http.StatusOK, conformance.ReplyMe(authecho.MustFrom[conformance.User](c)))
	}, authecho.Middleware(s.Either))

	items := e.Group("/items", authecho.Middleware(s.Items))
	items.GET("", func(c echo.Context) error {
		return text(c, http.StatusOK, conformance.ReplyItems(authecho.MustFrom[auth.Claims](c)))
	})
	items.POST("", func(c echo.Context) error {
		return text(c, http.StatusCreated, conformance.ReplyCreated(authecho.MustFrom[auth.Claims](c)))
	})
	items.GET("/:id", func(c echo.Context) error {
		return text(c, http.StatusOK, conformance.ReplyItem(c.Param("id"), authecho.MustFrom[auth.Claims](c)))
	})
	return e
}

func TestConformance(t *testing.T) {
	conformance.Run(t, newServer)
}

func FuzzConformance(f *testing.F) {
	conformance.Fuzz(f, newServer)
}

// reference returns what the library's own net/http Guard answers.
func reference(tb testing.TB, a auth.Guarder, authorization string) *httptest.ResponseRecorder {
	tb.Helper()
	return conformance.Serve(tb, a.Guard(http.NotFoundHandler()), "GET", "/", authorization)
}

func TestErrorHandlerUntouched(t *testing.T) {
	tokens := conformance.Tokens()
	e := echo.New()
	var handled atomic.Int32
	var handledErr atomic.Value
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		handled.Add(1)
		handledErr.Store(err)
		_ = c.String(http.StatusTeapot, "from the error handler")
	}
	errHandler := errors.New("handler failed")
	e.GET("/fail", func(c echo.Context) error { return errHandler }, authecho.Middleware(tokens.Requires("x:read")))
	e.GET("/typed", authecho.Handler(tokens.Requires("x:read"), func(echo.Context, auth.Claims) error { return errHandler }))

	tests := []struct {
		name          string
		target        string
		authorization string
		wantStatus    int
		wantHandled   int32
	}{
		{name: "no credential", target: "/fail", authorization: "", wantStatus: http.StatusUnauthorized},
		{name: "malformed", target: "/fail", authorization: "Bearer a b", wantStatus: http.StatusBadRequest},
		{name: "invalid token", target: "/fail", authorization: "Bearer nope", wantStatus: http.StatusUnauthorized},
		{name: "missing scope", target: "/fail", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "accepted, handler error", target: "/fail", authorization: "Bearer tok-ann.x_read", wantStatus: http.StatusTeapot, wantHandled: 1},
		{name: "typed, no credential", target: "/typed", authorization: "", wantStatus: http.StatusUnauthorized},
		{name: "typed, missing scope", target: "/typed", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "typed, accepted, handler error", target: "/typed", authorization: "Bearer tok-ann.x_read", wantStatus: http.StatusTeapot, wantHandled: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled.Store(0)
			rec := conformance.Serve(t, e, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := handled.Load(); got != tt.wantHandled {
				t.Errorf("HTTPErrorHandler called %d times; want %d", got, tt.wantHandled)
			}
			if tt.wantHandled == 0 {
				want := reference(t, tokens.Requires("x:read"), tt.authorization)
				if rec.Body.String() != want.Body.String() {
					t.Errorf("body = %q; net/http answers %q", rec.Body, want.Body)
				}
				if got, want := rec.Header().Values("WWW-Authenticate"), want.Header().Values("WWW-Authenticate"); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("WWW-Authenticate = %q; net/http answers %q", got, want)
				}
			} else if err, _ := handledErr.Load().(error); !errors.Is(err, errHandler) {
				t.Errorf("HTTPErrorHandler got %v; want %v", err, errHandler)
			}
		})
	}
}

func TestMiddlewareStopsChain(t *testing.T) {
	tokens := conformance.Tokens()
	var after, handler atomic.Int32
	count := func(n *atomic.Int32) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error { n.Add(1); return next(c) }
		}
	}
	e := echo.New()
	e.GET("/", func(c echo.Context) error { handler.Add(1); return c.NoContent(http.StatusNoContent) },
		authecho.Middleware(tokens.Auth), count(&after))

	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantCalls     int32
	}{
		{name: "rejected", authorization: "Bearer nope", wantStatus: http.StatusUnauthorized, wantCalls: 0},
		{name: "accepted", authorization: "Bearer tok-ann", wantStatus: http.StatusNoContent, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after.Store(0)
			handler.Store(0)
			rec := conformance.Serve(t, e, "GET", "/", tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := after.Load(); got != tt.wantCalls {
				t.Errorf("later middleware ran %d times; want %d", got, tt.wantCalls)
			}
			if got := handler.Load(); got != tt.wantCalls {
				t.Errorf("handler ran %d times; want %d", got, tt.wantCalls)
			}
		})
	}
}

type account struct{ ID string }

func TestFrom(t *testing.T) {
	tokens := conformance.Tokens()
	accounts := auth.Then(tokens.Auth, func(_ context.Context, c auth.Claims) (account, error) {
		return account{ID: "acct-" + c["sub"].(string)}, nil
	})
	e := echo.New()
	e.GET("/guarded", func(c echo.Context) error {
		a, okA := authecho.From[account](c)
		claims, okC := authecho.From[auth.Claims](c)
		viaCore, okCore := auth.From[account](c.Request().Context())
		_, okString := authecho.From[string](c)
		if !okA || !okC || !okCore || okString || viaCore != a {
			return c.String(http.StatusInternalServerError, "bad principals")
		}
		return c.String(http.StatusOK, a.ID+" "+claims["sub"].(string))
	}, authecho.Middleware(accounts))
	e.GET("/open", func(c echo.Context) error {
		if _, ok := authecho.From[account](c); ok {
			return c.String(http.StatusInternalServerError, "principal on an open route")
		}
		return c.String(http.StatusOK, "none")
	})

	tests := []struct {
		name, target, authorization, want string
	}{
		{name: "every stage", target: "/guarded", authorization: "Bearer tok-ann", want: "acct-ann ann"},
		{name: "open route has none", target: "/open", authorization: "Bearer tok-ann", want: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, e, "GET", tt.target, tt.authorization)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Errorf("GET %s = %d %q; want 200 %q", tt.target, rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestMustFromPanics(t *testing.T) {
	e := echo.New()
	c := e.NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "authecho_test.account") {
			t.Errorf("MustFrom panicked with %q; want a message naming the type", msg)
		}
	}()
	authecho.MustFrom[account](c)
	t.Error("MustFrom did not panic without a principal")
}

func TestGroupLeavesOtherRoutesOpen(t *testing.T) {
	tokens := conformance.Tokens()
	e := echo.New()
	ok := func(c echo.Context) error { return c.String(http.StatusOK, c.Path()) }
	e.GET("/health", ok)
	e.GET("/itemsx", ok)
	items := e.Group("/items", authecho.Middleware(tokens.Requires("items:read")))
	items.GET("/:id", ok)

	tests := []struct {
		name, target, authorization string
		wantStatus                  int
	}{
		{name: "other route open", target: "/health", wantStatus: http.StatusOK},
		{name: "sibling prefix open", target: "/itemsx", wantStatus: http.StatusOK},
		{name: "group route guarded", target: "/items/1", wantStatus: http.StatusUnauthorized},
		{name: "unknown route in group guarded", target: "/items", wantStatus: http.StatusUnauthorized},
		{name: "group route lacking scope", target: "/items/1", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "group route with scope", target: "/items/1", authorization: "Bearer tok-ann.items_read", wantStatus: http.StatusOK},
		{name: "unknown route in group with scope", target: "/items", authorization: "Bearer tok-ann.items_read", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, e, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("GET %s = %d %q; want %d", tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
		})
	}
}

// TestWrapMiddlewareConforms shows that Echo's own wrapper of net/http
// middleware gives the same responses as this package.
func TestWrapMiddlewareConforms(t *testing.T) {
	conformance.Run(t, func(s *conformance.Stack) http.Handler {
		e := echo.New()
		wrapped := func(a auth.Guarder) echo.MiddlewareFunc { return echo.WrapMiddleware(a.Guard) }
		e.GET("/public", func(c echo.Context) error { return text(c, http.StatusOK, conformance.ReplyPublic()) })
		e.GET("/me", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyMe(authecho.MustFrom[conformance.User](c)))
		}, wrapped(s.Users))
		e.GET("/typed", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyTyped(authecho.MustFrom[conformance.User](c)))
		}, wrapped(s.Users))
		e.GET("/stages", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyStages(authecho.MustFrom[auth.Claims](c), authecho.MustFrom[conformance.User](c)))
		}, wrapped(s.Users))
		e.GET("/feed", func(c echo.Context) error {
			u, ok := authecho.From[conformance.User](c)
			return text(c, http.StatusOK, conformance.ReplyFeed(u, ok))
		}, echo.WrapMiddleware(s.Users.Optional))
		e.GET("/reports", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyReports(authecho.MustFrom[auth.Claims](c)))
		}, wrapped(s.Reports))
		e.GET("/service", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyService(authecho.MustFrom[apikey.Principal](c).Owner))
		}, wrapped(s.Keys))
		e.GET("/whoami", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyMe(authecho.MustFrom[conformance.User](c)))
		}, wrapped(s.Either))
		items := e.Group("/items", wrapped(s.Items))
		items.GET("", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyItems(authecho.MustFrom[auth.Claims](c)))
		})
		items.POST("", func(c echo.Context) error {
			return text(c, http.StatusCreated, conformance.ReplyCreated(authecho.MustFrom[auth.Claims](c)))
		})
		items.GET("/:id", func(c echo.Context) error {
			return text(c, http.StatusOK, conformance.ReplyItem(c.Param("id"), authecho.MustFrom[auth.Claims](c)))
		})
		return e
	})
}

func TestConstructorsPanicOnNil(t *testing.T) {
	tests := []struct {
		name string
		call func()
	}{
		{name: "Middleware", call: func() { authecho.Middleware(nil) }},
		{name: "Optional", call: func() { authecho.Optional(nil) }},
		{name: "Handler nil auth", call: func() {
			authecho.Handler[auth.Claims](nil, func(echo.Context, auth.Claims) error { return nil })
		}},
		{name: "Handler nil func", call: func() { authecho.Handler[auth.Claims](conformance.Tokens().Auth, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic", tt.name)
				}
			}()
			tt.call()
		})
	}
}

func TestUseGuardsUnknownRoutes(t *testing.T) {
	e := echo.New()
	e.Use(authecho.Middleware(conformance.Tokens()))
	e.GET("/known", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	tests := []struct {
		name, target, authorization string
		wantStatus                  int
	}{
		{name: "known route", target: "/known", wantStatus: http.StatusUnauthorized},
		{name: "unknown route", target: "/unknown", wantStatus: http.StatusUnauthorized},
		{name: "known route authenticated", target: "/known", authorization: "Bearer tok-ann", wantStatus: http.StatusNoContent},
		{name: "unknown route authenticated", target: "/unknown", authorization: "Bearer tok-ann", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, e, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("GET %s = %d %q; want %d", tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
		})
	}
}
