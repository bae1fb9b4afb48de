package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// consumerModule is the path of the scratch module that installs the
// rehearsed modules, as a user's module would.
const consumerModule = "rehearsal.example/consumer"

// installModules creates a scratch module outside the repository, runs go
// get for each published module at the rehearsed version, then builds and
// runs one program per library module that imports every public package
// of the module and refers to an exported name of each.
func (r *rehearsal) installModules() error {
	r.consumer = filepath.Join(r.tmp, "consumer")
	if err := os.MkdirAll(r.consumer, 0o755); err != nil {
		return err
	}
	goVersion := "1.26.0"
	if g := r.ws.Root().File.Go; g != nil {
		goVersion = g.Version
	}
	gomod := fmt.Sprintf("module %s\n\ngo %s\n", consumerModule, goVersion)
	if err := os.WriteFile(filepath.Join(r.consumer, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	sums, err := r.thirdPartySums()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.consumer, "go.sum"), []byte(sums), 0o644); err != nil {
		return err
	}
	env := withEnv(r.env, "GOFLAGS="+goflags(r.env)+" -mod=mod")
	for _, m := range r.order {
		if !m.Published {
			continue
		}
		if _, err := run(r.consumer, env, "go", "get", m.Path+"@"+r.version); err != nil {
			return fmt.Errorf("a user cannot install %s: go get %s@%s fails:\n%w", m.Path, m.Path, r.version, err)
		}
	}
	pkgs, err := r.publicPackages(env)
	if err != nil {
		return err
	}
	var dirs []string
	for _, m := range r.order {
		if !m.Published {
			continue
		}
		src, err := usageProgram(m, r.version, pkgs[m.Path])
		if err != nil {
			return err
		}
		if src == "" {
			fmt.Fprintf(r.cfg.Log, "   %s: installed (no importable package: its programs are run instead)\n", m.Path)
			continue
		}
		dir := path.Join("use", strings.NewReplacer("/", "_", ".", "_").Replace(m.Path))
		if err := os.MkdirAll(filepath.Join(r.consumer, dir), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.consumer, dir, "main.go"), []byte(src), 0o644); err != nil {
			return err
		}
		dirs = append(dirs, dir)
		var names []string
		for _, p := range pkgs[m.Path] {
			names = append(names, p.ImportPath)
		}
		fmt.Fprintf(r.cfg.Log, "   %s: installed; a program uses %s\n", m.Path, strings.Join(names, ", "))
	}
	if len(dirs) == 0 {
		return errors.New("no published module has a package a user could import")
	}
	bin := filepath.Join(r.tmp, "bin")
	if _, err := run(r.consumer, env, "go", "build", "-o", bin+string(filepath.Separator), "./use/..."); err != nil {
		return fmt.Errorf("programs using the installed modules do not build:\n%w", err)
	}
	for _, dir := range dirs {
		exe := filepath.Join(bin, path.Base(dir))
		if _, err := run(r.consumer, env, exe); err != nil {
			return fmt.Errorf("the program using %s fails:\n%w", dir, err)
		}
	}
	return nil
}

// thirdPartySums returns the checksum lines of every go.sum (and
// go.work.sum) of the clone except the repository's own modules, so that
// the scratch module verifies third-party downloads against the hashes the
// repository was tested with; modules missing from them are verified by the
// checksum database as usual.
func (r *rehearsal) thirdPartySums() (string, error) {
	files, err := run(r.src, nil, "git", "ls-files", "go.sum", "*/go.sum", "go.work.sum")
	if err != nil {
		return "", err
	}
	root := r.ws.Root().Path
	seen := map[string]bool{}
	for _, f := range strings.Fields(files) {
		data, err := os.ReadFile(filepath.Join(r.src, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(string(data), "\n") {
			p, _, _ := strings.Cut(line, " ")
			if line == "" || p == root || strings.HasPrefix(p, root+"/") {
				continue
			}
			seen[line] = true
		}
	}
	lines := sortedKeys(seen)
	if len(lines) == 0 {
		return "", nil
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// A pkg is a package of an installed module.
type pkg struct {
	ImportPath, Name, Dir string
	GoFiles               []string
}

// publicPackages lists, for each installed module, the packages a user can
// import: not internal, not a command, with Go files.
func (r *rehearsal) publicPackages(env []string) (map[string][]pkg, error) {
	out := map[string][]pkg{}
	for _, m := range r.order {
		if !m.Published {
			continue
		}
		list, err := run(r.consumer, env, "go", "list", "-e", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Dir}}\t{{if .Module}}{{.Module.Path}}{{end}}\t{{join .GoFiles \",\"}}", m.Path+"/...")
		if err != nil {
			return nil, fmt.Errorf("listing the packages of %s: %w", m.Path, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 5 || f[3] != m.Path || f[1] == "main" || f[4] == "" {
				continue
			}
			if slices.Contains(strings.Split(f[0], "/"), "internal") {
				continue
			}
			out[m.Path] = append(out[m.Path], pkg{ImportPath: f[0], Name: f[1], Dir: f[2], GoFiles: strings.Split(f[4], ",")})
		}
	}
	return out, nil
}

// usageProgram returns the source of a program that imports every package
// of pkgs and refers to one exported name of each, or "" when pkgs is
// empty.
func usageProgram(m *workModule, version string, pkgs []pkg) (string, error) {
	if len(pkgs) == 0 {
		return "", nil
	}
	var imports, uses []string
	for i, p := range pkgs {
		alias := fmt.Sprintf("p%d", i)
		use, err := exportedUse(p)
		if err != nil {
			return "", err
		}
		imports = append(imports, fmt.Sprintf("\t%s %q", alias, p.ImportPath))
		uses = append(uses, "\t"+strings.ReplaceAll(use, "PKG", alias))
	}
	return fmt.Sprintf(`// Command use uses every public package of %s %s,
// installed with go get as a user would. Generated by the release rehearsal.
package main

import (
%s
)

func main() {
%s
}
`, m.Path, version, strings.Join(imports, "\n"), strings.Join(uses, "\n")), nil
}

// exportedUse returns a statement that refers to an exported name of p,
// written with PKG for the package name: a function or variable if there is
// one, else a constant, else a type; generic functions and types are left
// out, since they cannot be named without type arguments.
func exportedUse(p pkg) (string, error) {
	fset := token.NewFileSet()
	var funcs, vars, consts, types []string
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return "", err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && d.Type.TypeParams == nil {
					funcs = append(funcs, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && d.Tok == token.VAR {
								vars = append(vars, n.Name)
							} else if n.IsExported() {
								consts = append(consts, n.Name)
							}
						}
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.TypeParams == nil {
							types = append(types, s.Name.Name)
						}
					}
				}
			}
		}
	}
	for _, names := range [][]string{funcs, vars, consts} {
		if len(names) > 0 {
			sort.Strings(names)
			return "_ = PKG." + names[0], nil
		}
	}
	if len(types) > 0 {
		sort.Strings(types)
		return "_ = (*PKG." + types[0] + ")(nil)", nil
	}
	return "", fmt.Errorf("package %s exports no function, variable, constant or non-generic type a program could refer to", p.ImportPath)
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listening is the line the quickstart prints once it accepts connections.
var listening = regexp.MustCompile(`listening on (http://[^\s]+)`)

// runQuickstart runs go run <root>/examples/quickstart@<version> on a free
// loopback port (ADDR=127.0.0.1:0; the program prints the address it
// got), checks that GET /healthz answers 200, and stops it with SIGTERM.
func (r *rehearsal) runQuickstart() error {
	pkgPath := r.ws.Root().Path + "/examples/quickstart"
	if m := r.ws.byPath(r.ws.Root().Path + "/examples"); m == nil || !m.Published {
		return fmt.Errorf("%s is not published: the README's quick start would not work", pkgPath)
	}
	target := pkgPath + "@" + r.version
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", target)
	cmd.Dir = r.tmp
	cmd.Env = withEnv(r.env, "ADDR=127.0.0.1:0", "ISSUER=", "AUDIENCE=", "JWKS_URL=", "ALGORITHMS=")
	setProcessGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	stop := func() error {
		stopProcessGroup(cmd)
		select {
		case err := <-exited:
			return err
		case <-time.After(20 * time.Second):
			killProcessGroup(cmd)
			return errors.New("it did not stop within 20s of SIGTERM")
		}
	}
	var base string
	select {
	case base = <-found:
	case err := <-exited:
		return fmt.Errorf("go run %s exited before listening (%v):\n%s", target, err, indent(stderr.String()))
	case <-ctx.Done():
		killProcessGroup(cmd)
		return fmt.Errorf("go run %s did not print its address within 5 minutes:\n%s", target, indent(stderr.String()))
	}
	status, herr := healthz(base)
	serr := stop()
	if herr != nil {
		return fmt.Errorf("go run %s: GET %s/healthz: %w", target, base, herr)
	}
	if status != http.StatusOK {
		return fmt.Errorf("go run %s: GET %s/healthz answered %d, want 200", target, base, status)
	}
	if serr != nil {
		var ee *exec.ExitError
		if !errors.As(serr, &ee) || !terminatedBySignal(ee) {
			return fmt.Errorf("go run %s: stopping it with SIGTERM: %v\n%s", target, serr, indent(stderr.String()))
		}
	}
	fmt.Fprintf(r.cfg.Log, "   go run %s: listened on %s, GET /healthz 200, stopped\n", target, base)
	return nil
}

func healthz(base string) (int, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
