package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A snippet is a fenced Go code block of a Markdown file.
//
// The convention (RELEASING.md tells it to writers of documentation):
//
//   - Every ```go block compiles against the released modules, unless its
//     info string says nocompile (```go nocompile), for a block that shows
//     alternatives side by side.
//   - A block that starts with a package clause is a complete file.
//   - Otherwise imports are added for the packages it names (the standard
//     library, the repository's public packages, and the root package of
//     each module a published module requires directly: chi, Echo, Gin…);
//     top-level func, type and import declarations stay at file level and
//     the other lines become the body of a function that returns error.
//     A line holding only … (or ...), and { … }, stand for elided code. A
//     variable declared and not used is fine.
//   - Names a block uses without declaring them come from the Go blocks
//     inside HTML comments (<!-- ... -->) of the same file, which readers
//     do not see and which are compiled with every block; a block's own
//     top-level declarations take precedence over theirs. Their imports
//     are available to every block.
type snippet struct {
	File      string // the Markdown file, as named in messages
	Line      int    // line of the first line of code
	Code      string
	Hidden    bool // inside an HTML comment: shared declarations
	NoCompile bool
}

var fence = regexp.MustCompile("^( {0,3})(```+|~~~+)[ \t]*(.*)$")

// extractSnippets returns the Go blocks of a Markdown document.
func extractSnippets(name, md string) ([]snippet, error) {
	var (
		out       []snippet
		inComment bool
		open      string // the opening fence, while in a block
		indent    int
		info      string
		start     int
		hidden    bool
		body      []string
	)
	lines := strings.Split(md, "\n")
	for i, line := range lines {
		if open != "" {
			if m := fence.FindStringSubmatch(line); m != nil && m[3] == "" && m[2][0] == open[0] && len(m[2]) >= len(open) {
				fields := strings.Fields(info)
				if len(fields) > 0 && fields[0] == "go" {
					out = append(out, snippet{File: name, Line: start, Code: strings.Join(body, "\n"), Hidden: hidden, NoCompile: slices.Contains(fields[1:], "nocompile")})
				}
				open, body = "", nil
				continue
			}
			for n := 0; n < indent && strings.HasPrefix(line, " "); n++ {
				line = line[1:]
			}
			body = append(body, line)
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil && !(m[2][0] == '`' && strings.Contains(m[3], "`")) {
			open, indent, info, start, hidden = m[2], len(m[1]), m[3], i+2, inComment
			continue
		}
		rest := line
		for {
			if !inComment {
				j := strings.Index(rest, "<!--")
				if j < 0 {
					break
				}
				inComment, rest = true, rest[j+4:]
				continue
			}
			j := strings.Index(rest, "-->")
			if j < 0 {
				break
			}
			inComment, rest = false, rest[j+3:]
		}
	}
	if open != "" {
		return nil, fmt.Errorf("%s:%d: code block is never closed", name, start-1)
	}
	return out, nil
}

var (
	elidedBlock = regexp.MustCompile(`\{[ \t]*(…|\.\.\.)[ \t]*\}`)
	elidedLine  = regexp.MustCompile(`^([ \t]*)(…|\.\.\.)[ \t]*$`)
)

// segment is a run of lines of a snippet: a top-level declaration, or
// statements.
type segment struct {
	line int // Markdown line of its first line
	text string
	decl bool
	imp  bool
}

// splitSnippet splits the code of a snippet that is not a complete file
// into top-level declarations and statements.
func splitSnippet(s snippet) []segment {
	lines := strings.Split(s.Code, "\n")
	for i, l := range lines {
		l = elidedBlock.ReplaceAllString(l, `{ panic("elided") }`)
		lines[i] = elidedLine.ReplaceAllString(l, `${1}panic("elided")`)
	}
	var segs []segment
	add := func(i, j int, decl, imp bool) {
		text := strings.Join(lines[i:j], "\n")
		if n := len(segs) - 1; !decl && n >= 0 && !segs[n].decl {
			segs[n].text += "\n" + text
			return
		}
		segs = append(segs, segment{line: s.Line + i, text: text, decl: decl, imp: imp})
	}
	for i := 0; i < len(lines); {
		l := lines[i]
		isDecl := strings.HasPrefix(l, "type ") || strings.HasPrefix(l, "import ") ||
			(strings.HasPrefix(l, "func ") && !strings.HasPrefix(l, "func (")) || isMethod(l)
		if !isDecl {
			add(i, i+1, false, false)
			i++
			continue
		}
		j := i + 1
		code := strings.TrimSpace(stripLineComment(l))
		if strings.HasSuffix(code, "{") || strings.HasSuffix(code, "(") {
			for j < len(lines) && !strings.HasPrefix(lines[j], "}") && !strings.HasPrefix(lines[j], ")") {
				j++
			}
			if j < len(lines) {
				j++
			}
		}
		add(i, j, true, strings.HasPrefix(l, "import "))
		i = j
	}
	return segs
}

// isMethod reports whether a line starting with "func (" declares a method
// rather than starting a statement with a function literal.
func isMethod(l string) bool { return methodDecl.MatchString(l) }

var methodDecl = regexp.MustCompile(`^func \([^)]*\) [A-Za-z_]\w*[\[(]`)

func stripLineComment(l string) string {
	if i := strings.Index(l, "//"); i >= 0 && !strings.Contains(l[:i], `"`) && !strings.Contains(l[:i], "`") {
		return l[:i]
	}
	return l
}

// snippetCompiler turns snippets into Go files.
type snippetCompiler struct {
	imports map[string]string // package name -> import path
	prelude []segment         // declarations from hidden blocks, one per name
	names   [][]string        // the names each prelude segment declares
}

// newSnippetCompiler parses the hidden blocks of a file into declarations.
func newSnippetCompiler(imports map[string]string, hidden []snippet) (*snippetCompiler, error) {
	c := &snippetCompiler{imports: maps.Clone(imports)}
	for _, h := range hidden {
		src := fmt.Sprintf("package main\n//line %s:%d\n%s\n", h.File, h.Line, h.Code)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, h.File, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("shared declarations (a Go block inside an HTML comment) must be top-level declarations: %w", err)
		}
		text := func(from, to token.Pos) string {
			return src[fset.File(from).Offset(from):fset.File(to).Offset(to)]
		}
		for _, d := range f.Decls {
			line := fset.Position(d.Pos()).Line
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if d.Recv != nil {
					name = "" // kept with its type, by receiver name below
					if len(d.Recv.List) == 1 {
						name = "." + receiverType(d.Recv.List[0].Type)
					}
				}
				c.prelude = append(c.prelude, segment{line: line, text: text(d.Pos(), d.End()), decl: true})
				c.names = append(c.names, []string{name})
			case *ast.GenDecl:
				if d.Tok == token.IMPORT {
					// Added as needed, to every block.
					for _, sp := range d.Specs {
						is := sp.(*ast.ImportSpec)
						p, _ := strconv.Unquote(is.Path.Value)
						name := guessName(p)
						if is.Name != nil {
							name = is.Name.Name
						}
						c.imports[name] = p
					}
					continue
				}
				for _, s := range d.Specs {
					var names []string
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names = append(names, n.Name)
						}
					case *ast.TypeSpec:
						names = append(names, s.Name.Name)
					}
					c.prelude = append(c.prelude, segment{line: fset.Position(s.Pos()).Line, text: d.Tok.String() + " " + text(s.Pos(), s.End()), decl: true})
					c.names = append(c.names, names)
				}
			}
		}
	}
	return c, nil
}

func receiverType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return receiverType(e.X)
	case *ast.IndexExpr:
		return receiverType(e.X)
	case *ast.IndexListExpr:
		return receiverType(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// file returns the Go file that compiles snippet s.
func (c *snippetCompiler) file(s snippet) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(stripComments(s.Code)), "package ") {
		return fmt.Sprintf("//line %s:%d\n%s\n", s.File, s.Line, s.Code), nil
	}
	segs := splitSnippet(s)
	var imports, decls, body strings.Builder
	for _, g := range segs {
		switch {
		case g.imp:
			fmt.Fprintf(&imports, "//line %s:%d\n%s\n", s.File, g.line, g.text)
		case g.decl:
			fmt.Fprintf(&decls, "//line %s:%d\n%s\n", s.File, g.line, g.text)
		default:
			fmt.Fprintf(&body, "//line %s:%d\n%s\n", s.File, g.line, g.text)
		}
	}
	own := "package main\n\n" + imports.String() + decls.String() +
		"\nfunc rehearsedSnippet() error {\n" + body.String() + "\treturn nil\n}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, s.File, own, parser.SkipObjectResolution)
	if err != nil {
		return "", fmt.Errorf("Go block at %s:%d does not parse (see RELEASING.md for how blocks are compiled): %w", s.File, s.Line, err)
	}
	declared := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declared[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						declared[n.Name] = true
					}
				case *ast.TypeSpec:
					declared[sp.Name.Name] = true
				}
			}
		}
	}
	var shared strings.Builder
	for i, g := range c.prelude {
		drop := false
		for _, n := range c.names[i] {
			if declared[n] || strings.HasPrefix(n, ".") && declared[n[1:]] {
				drop = true
			}
		}
		if !drop {
			fmt.Fprintf(&shared, "//line %s:%d\n%s\n", s.File, g.line, g.text)
		}
	}
	src := own + shared.String()
	if !declared["main"] {
		src += "\nfunc main() {}\n"
	}
	fset = token.NewFileSet()
	f, err = parser.ParseFile(fset, s.File, src, 0)
	if err != nil {
		return "", fmt.Errorf("Go block at %s:%d does not parse with the shared declarations: %w", s.File, s.Line, err)
	}
	src = useDeclared(fset, f, src)
	return addImports(f, src, c.imports), nil
}

func stripComments(code string) string {
	var out []string
	for _, l := range strings.Split(code, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "//") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// useDeclared returns src with "_ = x" after each statement that declares
// local variables, so that a snippet may declare a variable it does not
// use. The text is inserted on the same line, so that lines stay where the
// line directives say.
func useDeclared(fset *token.FileSet, f *ast.File, src string) string {
	type insertion struct {
		off  int
		text string
	}
	var ins []insertion
	uses := func(names []string) string {
		var b strings.Builder
		for _, n := range names {
			if n != "_" {
				b.WriteString("; _ = " + n)
			}
		}
		return b.String()
	}
	stmts := func(list []ast.Stmt) {
		for _, st := range list {
			var names []string
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, e := range st.Lhs {
						if id, ok := e.(*ast.Ident); ok {
							names = append(names, id.Name)
						}
					}
				}
			case *ast.DeclStmt:
				if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
					for _, sp := range gd.Specs {
						for _, n := range sp.(*ast.ValueSpec).Names {
							names = append(names, n.Name)
						}
					}
				}
			}
			if u := uses(names); u != "" {
				ins = append(ins, insertion{fset.File(st.End()).Offset(st.End()), u})
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BlockStmt:
			stmts(n.List)
		case *ast.CaseClause:
			stmts(n.Body)
		case *ast.CommClause:
			stmts(n.Body)
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				var names []string
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						names = append(names, id.Name)
					}
				}
				if u := uses(names); u != "" {
					ins = append(ins, insertion{fset.File(n.Body.Lbrace).Offset(n.Body.Lbrace) + 1, strings.TrimPrefix(u, "; ") + ";"})
				}
			}
		}
		return true
	})
	sort.Slice(ins, func(i, j int) bool { return ins[i].off > ins[j].off })
	for _, in := range ins {
		src = src[:in.off] + in.text + src[in.off:]
	}
	return src
}

// addImports returns src with an import declaration, after the package
// clause, for each package name that the file uses as a qualifier without
// declaring or importing it, when imports knows the name.
func addImports(f *ast.File, src string, imports map[string]string) string {
	imported := map[string]bool{}
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		if is.Name != nil {
			imported[is.Name.Name] = true
		} else {
			imported[guessName(p)] = true
		}
	}
	unresolved := map[*ast.Ident]bool{}
	for _, id := range f.Unresolved {
		unresolved[id] = true
	}
	need := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && unresolved[id] && !imported[id.Name] {
				if _, known := imports[id.Name]; known {
					need[id.Name] = true
				}
			}
		}
		return true
	})
	if len(need) == 0 {
		return src
	}
	var b strings.Builder
	b.WriteString("\nimport (\n")
	for _, name := range sortedKeys(need) {
		p := imports[name]
		if guessName(p) == name {
			fmt.Fprintf(&b, "\t%q\n", p)
		} else {
			fmt.Fprintf(&b, "\t%s %q\n", name, p)
		}
	}
	b.WriteString(")\n")
	i := strings.Index(src, "\n") + 1 // after "package main"
	return src[:i] + b.String() + src[i:]
}

var majorSuffix = regexp.MustCompile(`^v[0-9]+$`)

// guessName returns the name a package is usually imported under: the last
// element of its path, without a major version suffix or gopkg.in's.
func guessName(importPath string) string {
	elems := strings.Split(importPath, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && majorSuffix.MatchString(name) {
		name = elems[len(elems)-2]
	}
	if i := strings.Index(name, ".v"); i > 0 {
		name = name[:i]
	}
	return strings.TrimPrefix(name, "go-")
}

// thirdPartyNames returns the third-party packages that snippets may use
// without importing them: the root package of each module that a
// published module requires directly (chi, Echo, Gin, go-redis…), by the
// name it is usually imported under. The published modules bring them into
// the build list of whoever installs them.
func thirdPartyNames(ws *workspace) map[string]string {
	names := map[string]string{}
	for _, m := range ws.Modules {
		if !m.Published {
			continue
		}
		for _, r := range m.File.Require {
			root := ws.Root().Path
			if r.Indirect || r.Mod.Path == root || strings.HasPrefix(r.Mod.Path, root+"/") {
				continue
			}
			name := guessName(r.Mod.Path)
			if old, dup := names[name]; !dup || r.Mod.Path < old {
				names[name] = r.Mod.Path
			}
		}
	}
	return names
}

// stdPreferred settles standard library names that several packages share.
var stdPreferred = map[string]string{
	"rand":     "crypto/rand",
	"template": "html/template",
	"scanner":  "text/scanner",
	"pprof":    "net/http/pprof",
}

// importTable returns the package names snippets may use without
// importing them: the standard library (listed by go list in dir), the
// third-party packages of thirdParty, and pkgs, the published packages
// (which win over the others).
func importTable(dir string, env []string, thirdParty map[string]string, pkgs []pkg) (map[string]string, error) {
	out, err := run(dir, env, "go", "list", "-e", "-f", "{{.Name}} {{.ImportPath}}", "std")
	if err != nil {
		return nil, err
	}
	table := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, p, ok := strings.Cut(line, " ")
		if !ok || name == "main" || name == "" || slices.Contains(strings.Split(p, "/"), "internal") || slices.Contains(strings.Split(p, "/"), "vendor") {
			continue
		}
		if old, dup := table[name]; dup && len(old) <= len(p) {
			continue
		}
		table[name] = p
	}
	for name, p := range stdPreferred {
		table[name] = p
	}
	for name, p := range thirdParty {
		table[name] = p
	}
	for _, p := range pkgs {
		table[p.Name] = p.ImportPath
	}
	return table, nil
}

// writeSnippets writes one package main per Go block of the Markdown files
// docs (relative to root) into out, and returns how many it wrote.
func writeSnippets(root string, docs []string, table map[string]string, out string) (int, error) {
	n := 0
	for _, doc := range docs {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			return 0, err
		}
		snips, err := extractSnippets(doc, string(data))
		if err != nil {
			return 0, err
		}
		var hidden []snippet
		for _, s := range snips {
			if s.Hidden {
				hidden = append(hidden, s)
			}
		}
		c, err := newSnippetCompiler(table, hidden)
		if err != nil {
			return 0, err
		}
		for _, s := range snips {
			if s.Hidden || s.NoCompile {
				continue
			}
			src, err := c.file(s)
			if err != nil {
				return 0, err
			}
			dir := filepath.Join(out, fmt.Sprintf("%s_%d", strings.NewReplacer("/", "_", ".", "_").Replace(path.Clean(doc)), s.Line))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return 0, err
			}
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

// snippetFailure is the start of the message of a failed snippet build.
const snippetFailure = "Go snippets of the documentation do not compile (RELEASING.md says how they are compiled; positions are in the Markdown files)"

// compileSnippets compiles the Go blocks of the configured Markdown files
// against the modules installed in the scratch module.
func (r *rehearsal) compileSnippets() error {
	env := withEnv(r.env, "GOFLAGS="+goflags(r.env)+" -mod=mod")
	byModule, err := r.publicPackages(env)
	if err != nil {
		return err
	}
	var pkgs []pkg
	for _, list := range byModule {
		pkgs = append(pkgs, list...)
	}
	table, err := importTable(r.consumer, env, thirdPartyNames(r.ws), pkgs)
	if err != nil {
		return err
	}
	n, err := writeSnippets(r.src, r.cfg.Docs, table, filepath.Join(r.consumer, "snippets"))
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(r.cfg.Log, "   no Go snippet to compile")
		return nil
	}
	if _, err := run(r.consumer, env, "go", "build", "./snippets/..."); err != nil {
		return fmt.Errorf("%s, against the released modules:\n%w", snippetFailure, err)
	}
	fmt.Fprintf(r.cfg.Log, "   %d snippets compiled\n", n)
	return nil
}
