module github.com/typedauth/auth/examples

go 1.26.0

require (
	github.com/typedauth/auth v0.0.0
	github.com/typedauth/auth/auth0 v0.0.0
)

require (
	github.com/auth0/go-jwt-middleware/v2 v2.3.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sync v0.18.0 // indirect
	gopkg.in/go-jose/go-jose.v2 v2.6.3 // indirect
)

replace github.com/typedauth/auth => ..

replace github.com/typedauth/auth/auth0 => ../auth0
