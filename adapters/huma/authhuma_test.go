package authhuma_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/labstack/echo/v4"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/adapters/huma"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/conformance"
)

// textOutput is a plain-text reply, written by huma as it is.
type textOutput struct {
	Status      int
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func text(status int, body string) (*textOutput, error) {
	return &textOutput{Status: status, ContentType: conformance.ContentType, Body: []byte(body)}, nil
}

type itemInput struct {
	ID string `path:"id"`
}

func get(id, path string) huma.Operation {
	return huma.Operation{OperationID: id, Method: http.MethodGet, Path: path}
}

// newAPI builds the conformance routes with huma over net/http and this
// package. With opaque set, every huma.Context is wrapped so that the
// middleware cannot reach the *http.Request and must make one from the
// context, as it does for the routers that are not built on net/http.
func newAPI(s *conformance.Stack, opaque bool) (huma.API, http.Handler) {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Conformance", "1.0.0"))
	if opaque {
		api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) { next(hidden{ctx}) })
	}
	registerAll(api, s)
	return api, mux
}

// registerAll registers the conformance routes on api.
func registerAll(api huma.API, s *conformance.Stack) {
	huma.Register(api, get("public", "/public"), func(context.Context, *struct{}) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyPublic())
	})
	huma.Register(api, authhuma.Operation(api, s.Users, get("me", "/me")), func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		u, ok := auth.From[conformance.User](ctx)
		if !ok {
			return text(http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(http.StatusOK, conformance.ReplyMe(u))
	})
	authhuma.Register(api, get("typed", "/typed"), s.Users, func(_ context.Context, u conformance.User, _ *struct{}) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyTyped(u))
	})
	huma.Register(api, authhuma.Operation(api, s.Users, get("stages", "/stages")), func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		c, okc := auth.From[auth.Claims](ctx)
		u, oku := auth.From[conformance.User](ctx)
		if !okc || !oku {
			return text(http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(http.StatusOK, conformance.ReplyStages(c, u))
	})
	huma.Register(api, authhuma.OptionalOperation(api, s.Users, get("feed", "/feed")), func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		u, ok := auth.From[conformance.User](ctx)
		return text(http.StatusOK, conformance.ReplyFeed(u, ok))
	})
	authhuma.Register(api, get("reports", "/reports"), s.Reports, func(_ context.Context, c auth.Claims, _ *struct{}) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyReports(c))
	})
	huma.Register(api, authhuma.Operation(api, s.Keys, get("service", "/service")), func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		key, ok := auth.From[apikey.Principal](ctx)
		if !ok {
			return text(http.StatusInternalServerError, conformance.NoPrincipal)
		}
		return text(http.StatusOK, conformance.ReplyService(key.Owner))
	})
	authhuma.Register(api, get("whoami", "/whoami"), s.Either, func(_ context.Context, u conformance.User, _ *struct{}) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyMe(u))
	})

	items := huma.NewGroup(api, "/items")
	authhuma.Group(items, s.Items)
	huma.Register(items, get("list-items", ""), func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyItems(auth.MustFrom[auth.Claims](ctx)))
	})
	huma.Register(items, huma.Operation{OperationID: "create-item", Method: http.MethodPost, Path: ""}, func(ctx context.Context, _ *struct{}) (*textOutput, error) {
		return text(http.StatusCreated, conformance.ReplyCreated(auth.MustFrom[auth.Claims](ctx)))
	})
	huma.Register(items, get("get-item", "/{id}"), func(ctx context.Context, in *itemInput) (*textOutput, error) {
		return text(http.StatusOK, conformance.ReplyItem(in.ID, auth.MustFrom[auth.Claims](ctx)))
	})
}

// hidden is a huma.Context without the Unwrap method of humago's.
type hidden struct{ humaContext }

type humaContext = huma.Context

func newServer(s *conformance.Stack) http.Handler {
	_, h := newAPI(s, false)
	return h
}

func newOpaqueServer(s *conformance.Stack) http.Handler {
	_, h := newAPI(s, true)
	return h
}

func TestConformance(t *testing.T) {
	conformance.Run(t, newServer)
}

func TestConformanceOpaqueContext(t *testing.T) {
	conformance.Run(t, newOpaqueServer)
}

func FuzzConformance(f *testing.F) {
	conformance.Fuzz(f, newServer)
}

func FuzzConformanceOpaqueContext(f *testing.F) {
	conformance.Fuzz(f, newOpaqueServer)
}

// newEchoServer serves the same API through huma's Echo adapter, whose
// context does not hand out an *http.Request: the middleware makes one from
// the huma.Context, as for every router not built on net/http.
func newEchoServer(s *conformance.Stack) http.Handler {
	e := echo.New()
	registerAll(humaecho.New(e, huma.DefaultConfig("Conformance", "1.0.0")), s)
	return e
}

func TestConformanceEcho(t *testing.T) {
	conformance.Run(t, newEchoServer)
}

func FuzzConformanceEcho(f *testing.F) {
	conformance.Fuzz(f, newEchoServer)
}
