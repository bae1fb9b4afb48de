module github.com/typedauth/auth/adapters/echo

go 1.26

require github.com/typedauth/auth v0.0.0

replace github.com/typedauth/auth => ../..
