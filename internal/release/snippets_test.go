package main

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const doc = "# Title\n" + // line 1
	"\n" +
	"```go\n" + // 3
	"key := make([]byte, 32)\n" + // 4
	"rand.Read(key)\n" +
	"```\n" +
	"\n" +
	"```sh\n" +
	"go get example.com/x\n" +
	"```\n" +
	"\n" +
	"```go nocompile\n" + // 12
	"a := 1\n" +
	"a := 2\n" +
	"```\n" +
	"<!-- shared\n" + // 16
	"```go\n" +
	"var mux *http.ServeMux\n" + // 18
	"```\n" +
	"-->\n" +
	"  ```go\n" + // 21: indented fence
	"  x := 1\n" +
	"  ```\n"

func TestExtractSnippets(t *testing.T) {
	got, err := extractSnippets("README.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []snippet{
		{File: "README.md", Line: 4, Code: "key := make([]byte, 32)\nrand.Read(key)"},
		{File: "README.md", Line: 13, Code: "a := 1\na := 2", NoCompile: true},
		{File: "README.md", Line: 18, Code: "var mux *http.ServeMux", Hidden: true},
		{File: "README.md", Line: 22, Code: "x := 1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d snippets %+v; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("snippet %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	if _, err := extractSnippets("README.md", "text\n```go\nx := 1\n"); err == nil || !strings.Contains(err.Error(), "README.md:2: code block is never closed") {
		t.Errorf("unclosed block: err = %v", err)
	}
}

// stdImports is the import table of a test: a few standard packages.
var stdImports = map[string]string{
	"rand": "crypto/rand", "http": "net/http", "fmt": "fmt", "context": "context", "errors": "errors", "time": "time",
}

// typeCheck type-checks a generated file against the standard library and
// returns the errors, whose positions follow the line directives.
func typeCheck(t *testing.T, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "gen.go", src, 0)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	conf := types.Config{Importer: importer.Default(), Error: func(err error) { errs = append(errs, err.Error()) }}
	_, _ = conf.Check("main", fset, []*ast.File{f}, nil)
	return errs
}

func TestSnippetFileCompiles(t *testing.T) {
	hidden := []snippet{{File: "README.md", Line: 40, Code: "type User struct{ Name string }\n\nvar mux *http.ServeMux\n\nfunc loadUser(ctx context.Context, id string) (User, error) { return User{}, nil }", Hidden: true}}
	c, err := newSnippetCompiler(stdImports, hidden)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		code string
	}{
		{"statements with unused variables and an elided body", "key := make([]byte, 32)\nrand.Read(key)\nu, err := loadUser(context.Background(), \"ann\")\nmux.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { … })"},
		{"return of an error", "if _, err := loadUser(context.Background(), \"x\"); err != nil {\n\treturn err\n}"},
		{"a declaration that replaces a shared one, then statements", "type User struct{ ID int }\n\nu := User{ID: 1}\nfmt.Println(u.ID)"},
		{"a function declared after statements, with an elided line", "mux.HandleFunc(\"/items\", getItem)\n\nfunc getItem(w http.ResponseWriter, r *http.Request) {\n\tid := r.PathValue(\"id\")\n\t…\n}"},
		{"a method and a range with unused variables", "type store struct{}\n\nfunc (s store) get(w http.ResponseWriter, r *http.Request) {\n\tfor k, v := range map[string]int{} {\n\t}\n}"},
		{"an explicit import", "import errs \"errors\"\n\nerr := errs.New(\"x\")\nvar d time.Duration"},
		{"a complete program", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(1) }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := c.file(snippet{File: "README.md", Line: 10, Code: tt.code})
			if err != nil {
				t.Fatal(err)
			}
			if errs := typeCheck(t, src); len(errs) > 0 {
				t.Errorf("generated file does not compile: %v\n%s", errs, src)
			}
		})
	}
}

// TestSnippetFileReportsMarkdownPositions checks that a snippet that does
// not compile is reported at its line of the Markdown file.
func TestSnippetFileReportsMarkdownPositions(t *testing.T) {
	c, err := newSnippetCompiler(stdImports, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.file(snippet{File: "README.md", Line: 30, Code: "x := 1\n\ny := undefinedName(x)"})
	if err != nil {
		t.Fatal(err)
	}
	errs := typeCheck(t, src)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "README.md:32: undefined: undefinedName") {
		t.Errorf("errors = %q; want one at README.md:32", errs)
	}

	_, err = c.file(snippet{File: "README.md", Line: 50, Code: "x := (1"})
	if err == nil || !strings.Contains(err.Error(), "README.md:50") {
		t.Errorf("parse error = %v; want one at README.md:50", err)
	}

	if _, err := newSnippetCompiler(stdImports, []snippet{{File: "README.md", Line: 7, Code: "x := 1", Hidden: true}}); err == nil || !strings.Contains(err.Error(), "README.md:7") {
		t.Errorf("statements in shared declarations: err = %v; want one at README.md:7", err)
	}
}

func TestGuessName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/go-chi/chi/v5":     "chi",
		"github.com/labstack/echo/v4":  "echo",
		"gopkg.in/go-jose/go-jose.v2":  "jose",
		"net/http":                     "http",
		"github.com/typedauth/auth":    "auth",
		"github.com/golang-jwt/jwt/v5": "jwt",
	} {
		if got := guessName(in); got != want {
			t.Errorf("guessName(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestExportedUse(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.go", "package p\n\nfunc Generic[T any]() {}\n\ntype List[T any] []T\n\nfunc (List[T]) Method() {}\n\nfunc internal() {}\n")
	write("b.go", "package p\n\ntype Plain struct{}\n\nconst Answer = 42\n")
	p := pkg{ImportPath: "example.com/p", Name: "p", Dir: dir, GoFiles: []string{"a.go", "b.go"}}
	if got, err := exportedUse(p); err != nil || got != "_ = PKG.Answer" {
		t.Errorf("exportedUse = %q, %v; want the constant", got, err)
	}
	write("b.go", "package p\n\ntype Plain struct{}\n")
	if got, err := exportedUse(p); err != nil || got != "_ = (*PKG.Plain)(nil)" {
		t.Errorf("exportedUse = %q, %v; want the non-generic type", got, err)
	}
	write("b.go", "package p\n")
	if _, err := exportedUse(p); err == nil || !strings.Contains(err.Error(), "example.com/p exports no") {
		t.Errorf("only generic names: err = %v", err)
	}
	m := &workModule{Dir: "x", Path: "example.com/x"}
	write("b.go", "package p\n\nvar V int\n")
	src, err := usageProgram(m, "v0.1.0", []pkg{p})
	if err != nil || !strings.Contains(src, "p0 \"example.com/p\"") || !strings.Contains(src, "_ = p0.V") {
		t.Errorf("usageProgram = %q, %v", src, err)
	}
}

// TestDocSnippetsCompileInWorkspace compiles the Go blocks of README.md
// against the workspace, as the rehearsal compiles them against the
// released modules: whoever edits the README learns from go test that a
// block no longer compiles, before the rehearsal in CI does.
func TestDocSnippetsCompileInWorkspace(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "go.mod", "*/go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := loadWorkspace(root, strings.Fields(string(out)), []string{"bench"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := run(root, nil, "go", "list", "-e", "-f", "{{.ImportPath}}\t{{.Name}}\t{{if .Module}}{{.Module.Path}}{{end}}", ws.Root().Path+"/...")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[1] == "main" || slices.Contains(strings.Split(f[0], "/"), "internal") {
			continue
		}
		if m := ws.byPath(f[2]); m == nil || !m.Published {
			continue
		}
		pkgs = append(pkgs, pkg{ImportPath: f[0], Name: f[1]})
	}
	table, err := importTable(root, nil, thirdPartyNames(ws), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	// Inside this module, so that the workspace resolves the imports; the
	// leading underscore keeps it out of ./... patterns.
	dir, err := os.MkdirTemp(".", "_snippets")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n, err := writeSnippets(root, []string{"README.md"}, table, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("README.md has no Go block to compile")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build"}
	for _, e := range entries {
		args = append(args, "./"+filepath.ToSlash(filepath.Join(dir, e.Name())))
	}
	if len(args)-1 != n {
		t.Fatalf("wrote %d packages, found %d", n, len(args)-1)
	}
	if _, err := run("", nil, "go", args...); err != nil {
		t.Fatalf("%s:\n%v", snippetFailure, err)
	}
	t.Logf("%d Go blocks of README.md compile", n)
}
