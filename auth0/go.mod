module github.com/typedauth/auth/auth0

go 1.26

require github.com/typedauth/auth v0.0.0

replace github.com/typedauth/auth => ..
