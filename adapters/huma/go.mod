module github.com/typedauth/auth/adapters/huma

go 1.26.0

require (
	github.com/danielgtaylor/huma/v2 v2.37.2
	github.com/typedauth/auth v0.1.0
)
