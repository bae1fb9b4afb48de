module github.com/typedauth/auth/auth0

go 1.26.0

require (
	github.com/auth0/go-jwt-middleware/v2 v2.3.1
	github.com/typedauth/auth v0.1.0
	golang.org/x/sync v0.18.0
	gopkg.in/go-jose/go-jose.v2 v2.6.3
)

require golang.org/x/crypto v0.58.0 // indirect
