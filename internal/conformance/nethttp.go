package conformance

import (
	"io"
	"net/http"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// NetHTTP returns the routes of the table served by net/http alone, with
// the library's own middleware. It is the reference that the adapters are
// compared with, by [Run] and by [Fuzz].
func NetHTTP(s *Stack) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusOK, ReplyPublic())
	})
	mux.Handle("GET /me", s.Users.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.From[User](r.Context())
		if !ok {
			Write(w, http.StatusInternalServerError, NoPrincipal)
			return
		}
		Write(w, http.StatusOK, ReplyMe(u))
	})))
	mux.Handle("GET /typed", s.Users.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
		Write(w, http.StatusOK, ReplyTyped(u))
	}))
	mux.Handle("GET /stages", s.Users.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, okc := auth.From[auth.Claims](r.Context())
		u, oku := auth.From[User](r.Context())
		if !okc || !oku {
			Write(w, http.StatusInternalServerError, NoPrincipal)
			return
		}
		Write(w, http.StatusOK, ReplyStages(c, u))
	})))
	mux.Handle("GET /feed", s.Users.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.From[User](r.Context())
		Write(w, http.StatusOK, ReplyFeed(u, ok))
	})))
	mux.Handle("GET /reports", s.Reports.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusOK, ReplyReports(auth.MustFrom[auth.Claims](r.Context())))
	})))
	mux.Handle("GET /service", s.Keys.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := auth.From[apikey.Principal](r.Context())
		if !ok {
			Write(w, http.StatusInternalServerError, NoPrincipal)
			return
		}
		Write(w, http.StatusOK, ReplyService(key.Owner))
	})))
	mux.Handle("GET /whoami", s.Either.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusOK, ReplyMe(auth.MustFrom[User](r.Context())))
	})))

	// The /items group: one guard for every route under the prefix.
	items := http.NewServeMux()
	items.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusOK, ReplyItems(auth.MustFrom[auth.Claims](r.Context())))
	})
	items.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusCreated, ReplyCreated(auth.MustFrom[auth.Claims](r.Context())))
	})
	items.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		Write(w, http.StatusOK, ReplyItem(r.PathValue("id"), auth.MustFrom[auth.Claims](r.Context())))
	})
	guarded := s.Items.Guard(items)
	mux.Handle("/items", guarded)
	mux.Handle("/items/", guarded)
	return mux
}

// Write answers with status and the text body, as every successful handler
// of the table does.
func Write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
