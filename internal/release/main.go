// Command release rehearses a release of every module of the repository, as
// a user would install it, without publishing anything.
//
// From the root of the repository:
//
//	go run ./internal/release
//
// It works on the committed HEAD (uncommitted changes are not rehearsed):
//
//  1. It checks every go.mod of the workspace: no replace directive, and
//     every requirement of a sibling module names the version being
//     rehearsed, a module this repository publishes.
//  2. In a temporary clone it tags every published module at that version
//     (the root module vX.Y.Z, a nested module <dir>/vX.Y.Z), and builds a
//     file-system module proxy from those tags, with module zips made by
//     golang.org/x/mod/zip.
//  3. With the workspace off and that proxy first in GOPROXY, every module
//     of go.work (published or not) resolves its requirements, passes go
//     vet and go mod verify, and its go.mod needs no change.
//  4. In a scratch module outside the repository, it runs go get for every
//     published module at the rehearsed version and builds and runs a
//     program that uses every public package of each.
//  5. go run github.com/typedauth/auth/examples/quickstart@<version> starts
//     and answers GET /healthz with 200.
//  6. The Go snippets of README.md compile against the rehearsed modules
//     (the convention is described in RELEASING.md).
//
// Third-party modules come from the local module cache when it has them,
// and otherwise from the module proxies of GOPROXY; their checksums are
// verified as usual. Only the rehearsed modules skip the checksum database,
// which cannot know them. The rehearsal uses a module cache of its own, so
// the rehearsed versions never enter the user's.
//
// Flags:
//
//	-version v      the version to rehearse (default: the version that the
//	                nested modules require of their siblings)
//	-unpublished d  comma-separated module directories that are never
//	                published (default "bench"); modules under an internal
//	                directory are never published either
//	-docs f         comma-separated Markdown files whose Go snippets must
//	                compile (default "README.md")
//	-keep           keep the temporary directory and print its path
//
// It exits with status 1 and says what is wrong when any step fails.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	var (
		cfg         config
		unpublished string
		docs        string
	)
	flag.StringVar(&cfg.Repo, "repo", "", "the repository to rehearse (default: the one holding the current directory)")
	flag.StringVar(&cfg.Version, "version", "", "the version to rehearse (default: the one nested modules require)")
	flag.StringVar(&unpublished, "unpublished", "bench", "comma-separated directories of modules that are never published")
	flag.StringVar(&docs, "docs", "README.md", "comma-separated Markdown files whose Go snippets must compile")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the temporary directory")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/release [-version v] [-unpublished dirs] [-docs files] [-keep]")
		os.Exit(2)
	}
	cfg.Unpublished = splitList(unpublished)
	cfg.Docs = splitList(docs)
	cfg.Log = os.Stdout
	if err := rehearse(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "release rehearsal FAILED:\n%v\n", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
