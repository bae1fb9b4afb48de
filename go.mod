module github.com/typedauth/auth

go 1.26
