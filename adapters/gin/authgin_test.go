package authgin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/gin"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/conformance"
)

func TestMain(m *testing.M) {
	// Gin's debug mode prints every route to standard output, which would
	// garble the examples' output. Set once, before any test runs.
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func text(c *gin.Context, status int, body string) {
	c.Data(status, conformance.ContentType, []byte(body))
}

// newServer builds the conformance routes with Gin and this package.
func newServer(s *conformance.Stack) http.Handler {
	r := gin.New()
	r.GET("/public", func(c *gin.Context) { text(c, http.StatusOK, conformance.ReplyPublic()) })
	r.GET("/me", authgin.Middleware(s.Users), func(c *gin.Context) {
		u, ok := authgin.From[conformance.User](c)
		if !ok {
			text(c, http.StatusInternalServerError, conformance.NoPrincipal)
			return
		}
		text(c, http.StatusOK, conformance.ReplyMe(u))
	})
	r.GET("/typed", authgin.Handler(s.Users, func(c *gin.Context, u conformance.User) {
		text(c, http.StatusOK, conformance.ReplyTyped(u))
	}))
	r.GET("/stages", authgin.Middleware(s.Users), func(c *gin.Context) {
		claims, okc := authgin.From[auth.Claims](c)
		u, oku := authgin.From[conformance.User](c)
		if !okc || !oku {
			text(c, http.StatusInternalServerError, conformance.NoPrincipal)
			return
		}
		text(c, http.StatusOK, conformance.ReplyStages(claims, u))
	})
	r.GET("/feed", authgin.Optional(s.Users), func(c *gin.Context) {
		u, ok := authgin.From[conformance.User](c)
		text(c, http.StatusOK, conformance.ReplyFeed(u, ok))
	})
	r.GET("/reports", authgin.Middleware(s.Reports), func(c *gin.Context) {
		text(c, http.StatusOK, conformance.ReplyReports(authgin.MustFrom[auth.Claims](c)))
	})
	r.GET("/service", authgin.Middleware(s.Keys), func(c *gin.Context) {
		key, ok := authgin.From[apikey.Principal](c)
		if !ok {
			text(c, http.StatusInternalServerError, conformance.NoPrincipal)
			return
		}
		text(c, http.StatusOK, conformance.ReplyService(key.Owner))
	})
	r.GET("/whoami", authgin.Middleware(s.Either), func(c *gin.Context) {
		text(c, http.StatusOK, conformance.ReplyMe(authgin.MustFrom[conformance.User](c)))
	})

	items := r.Group("/items", authgin.Middleware(s.Items))
	items.GET("", func(c *gin.Context) {
		text(c, http.StatusOK, conformance.ReplyItems(authgin.MustFrom[auth.Claims](c)))
	})
	items.POST("", func(c *gin.Context) {
		text(c, http.StatusCreated, conformance.ReplyCreated(authgin.MustFrom[auth.Claims](c)))
	})
	items.GET("/:id", func(c *gin.Context) {
		text(c, http.StatusOK, conformance.ReplyItem(c.Param("id"), authgin.MustFrom[auth.Claims](c)))
	})
	return r
}

func TestConformance(t *testing.T) {
	conformance.Run(t, newServer)
}

func FuzzConformance(f *testing.F) {
	conformance.Fuzz(f, newServer)
}

func TestAbortStopsChain(t *testing.T) {
	tokens := conformance.Tokens()
	var before, after, handler atomic.Int32
	var aborted atomic.Bool
	var errorsSeen atomic.Int32
	r := gin.New()
	r.Use(func(c *gin.Context) {
		before.Add(1)
		c.Next()
		aborted.Store(c.IsAborted())
		errorsSeen.Store(int32(len(c.Errors)))
	})
	r.GET("/", authgin.Middleware(tokens.Requires("x:read")),
		func(c *gin.Context) { after.Add(1); c.Next() },
		func(c *gin.Context) { handler.Add(1); c.Status(http.StatusNoContent) })
	r.GET("/typed", authgin.Handler(tokens.Requires("x:read"), func(c *gin.Context, _ auth.Claims) {
		handler.Add(1)
		c.Status(http.StatusNoContent)
	}))

	tests := []struct {
		name, target, authorization string
		wantStatus                  int
		wantCalls                   int32
		wantAborted                 bool
	}{
		{name: "no credential", target: "/", wantStatus: http.StatusUnauthorized, wantAborted: true},
		{name: "malformed", target: "/", authorization: "Bearer", wantStatus: http.StatusBadRequest, wantAborted: true},
		{name: "missing scope", target: "/", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden, wantAborted: true},
		{name: "accepted", target: "/", authorization: "Bearer tok-ann.x_read", wantStatus: http.StatusNoContent, wantCalls: 1},
		{name: "typed rejected", target: "/typed", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden, wantAborted: true},
		{name: "typed accepted", target: "/typed", authorization: "Bearer tok-ann.x_read", wantStatus: http.StatusNoContent, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before.Store(0)
			after.Store(0)
			handler.Store(0)
			rec := conformance.Serve(t, r, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := before.Load(); got != 1 {
				t.Errorf("earlier middleware ran %d times; want 1", got)
			}
			if got := handler.Load(); got != tt.wantCalls {
				t.Errorf("handler ran %d times; want %d", got, tt.wantCalls)
			}
			if tt.target == "/" {
				if got := after.Load(); got != tt.wantCalls {
					t.Errorf("later middleware ran %d times; want %d", got, tt.wantCalls)
				}
			}
			if got := aborted.Load(); got != tt.wantAborted {
				t.Errorf("c.IsAborted() = %v; want %v", got, tt.wantAborted)
			}
			if got := errorsSeen.Load(); got != 0 {
				t.Errorf("len(c.Errors) = %d; want 0", got)
			}
			if tt.wantAborted {
				want := conformance.Serve(t, tokens.Requires("x:read").Guard(http.NotFoundHandler()), "GET", "/", tt.authorization)
				if rec.Body.String() != want.Body.String() {
					t.Errorf("body = %q; net/http answers %q", rec.Body, want.Body)
				}
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
	r := gin.New()
	r.ContextWithFallback = true
	r.GET("/guarded", authgin.Middleware(accounts), func(c *gin.Context) {
		a, okA := authgin.From[account](c)
		claims, okC := authgin.From[auth.Claims](c)
		// With ContextWithFallback, *gin.Context is itself a context that
		// reaches the request's values.
		viaGin, okGin := auth.From[account](c)
		_, okString := authgin.From[string](c)
		if !okA || !okC || !okGin || okString || viaGin != a {
			c.String(http.StatusInternalServerError, "bad principals")
			return
		}
		c.String(http.StatusOK, a.ID+" "+claims["sub"].(string))
	})
	r.GET("/open", func(c *gin.Context) {
		if _, ok := authgin.From[account](c); ok {
			c.String(http.StatusInternalServerError, "principal on an open route")
			return
		}
		c.String(http.StatusOK, "none")
	})

	tests := []struct {
		name, target, authorization, want string
	}{
		{name: "every stage", target: "/guarded", authorization: "Bearer tok-ann", want: "acct-ann ann"},
		{name: "open route has none", target: "/open", authorization: "Bearer tok-ann", want: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, r, "GET", tt.target, tt.authorization)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Errorf("GET %s = %d %q; want 200 %q", tt.target, rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestMustFromPanics(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/", nil)
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "authgin_test.account") {
			t.Errorf("MustFrom panicked with %q; want a message naming the type", msg)
		}
	}()
	authgin.MustFrom[account](c)
	t.Error("MustFrom did not panic without a principal")
}

func TestGroupLeavesOtherRoutesOpen(t *testing.T) {
	tokens := conformance.Tokens()
	r := gin.New()
	ok := func(c *gin.Context) { c.String(http.StatusOK, c.FullPath()) }
	r.GET("/health", ok)
	r.GET("/itemsx", ok)
	items := r.Group("/items", authgin.Middleware(tokens.Requires("items:read")))
	items.GET("/:id", ok)
	items.DELETE("/:id", ok)

	tests := []struct {
		name, method, target, authorization string
		wantStatus                          int
	}{
		{name: "other route open", method: "GET", target: "/health", wantStatus: http.StatusOK},
		{name: "sibling prefix open", method: "GET", target: "/itemsx", wantStatus: http.StatusOK},
		{name: "group route guarded", method: "GET", target: "/items/1", wantStatus: http.StatusUnauthorized},
		{name: "every method guarded", method: "DELETE", target: "/items/1", wantStatus: http.StatusUnauthorized},
		{name: "group route lacking scope", method: "GET", target: "/items/1", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "group route with scope", method: "GET", target: "/items/1", authorization: "Bearer tok-ann.items_read", wantStatus: http.StatusOK},
		{name: "unknown route in group is Gin's 404", method: "GET", target: "/items/1/nope", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, r, tt.method, tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s = %d %q; want %d", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
		})
	}
}

func TestUseGuardsUnknownRoutes(t *testing.T) {
	r := gin.New()
	r.Use(authgin.Middleware(conformance.Tokens()))
	r.GET("/known", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	tests := []struct {
		name, target, authorization string
		wantStatus                  int
	}{
		{name: "known route", target: "/known", wantStatus: http.StatusUnauthorized},
		{name: "unknown route", target: "/unknown", wantStatus: http.StatusUnauthorized},
		{name: "unknown route authenticated", target: "/unknown", authorization: "Bearer tok-ann", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := conformance.Serve(t, r, "GET", tt.target, tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Errorf("GET %s = %d %q; want %d", tt.target, rec.Code, rec.Body, tt.wantStatus)
			}
		})
	}
}

func TestConstructorsPanicOnNil(t *testing.T) {
	tests := []struct {
		name string
		call func()
	}{
		{name: "Middleware", call: func() { authgin.Middleware(nil) }},
		{name: "Optional", call: func() { authgin.Optional(nil) }},
		{name: "Handler nil auth", call: func() { authgin.Handler[auth.Claims](nil, func(*gin.Context, auth.Claims) {}) }},
		{name: "Handler nil func", call: func() { authgin.Handler[auth.Claims](conformance.Tokens().Auth, nil) }},
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
