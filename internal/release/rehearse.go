package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// config is what a rehearsal is asked to do.
type config struct {
	Repo        string   // repository to rehearse; default: the one holding the current directory
	Version     string   // version to rehearse; default: workspace.releaseVersion
	Unpublished []string // module directories never published
	Docs        []string // Markdown files whose Go snippets must compile
	Keep        bool     // keep the temporary directory
	Log         io.Writer

	// upstream replaces the module proxies that third-party modules come
	// from after the local module cache (default: GOPROXY without direct).
	upstream string
}

// rehearsal is one run: its directories and the environment of the go
// commands it runs with the workspace off.
type rehearsal struct {
	cfg      config
	tmp      string // everything the rehearsal writes, but the module cache
	modcache string // the rehearsal's own module cache, kept between runs
	unlock   func() // releases the lock on the module cache
	src      string // the clone of HEAD that is tagged
	proxy    string // the file-system module proxy
	consumer string // the scratch module outside the repository
	ws       *workspace
	order    []*workModule
	version  string
	env      []string
}

// rehearse runs every step of a rehearsal and returns the first failure.
func rehearse(cfg config) (err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	start := time.Now()
	r := &rehearsal{cfg: cfg}
	if r.cfg.Repo == "" {
		out, err := run("", nil, "git", "rev-parse", "--show-toplevel")
		if err != nil {
			return fmt.Errorf("finding the repository: %w", err)
		}
		r.cfg.Repo = strings.TrimSpace(out)
	}
	defer func() {
		if r.unlock != nil {
			r.unlock()
		}
	}()
	if r.tmp, err = os.MkdirTemp("", "typedauth-rehearsal-"); err != nil {
		return err
	}
	defer func() {
		if r.cfg.Keep {
			fmt.Fprintf(r.cfg.Log, "kept %s\n", r.tmp)
			return
		}
		if rerr := os.RemoveAll(r.tmp); rerr != nil && err == nil {
			err = fmt.Errorf("removing the rehearsal's temporary directory: %w", rerr)
		}
	}()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"clone HEAD and check the go.mod files", r.cloneAndCheck},
		{"tag the published modules and build a module proxy from the tags", r.buildProxy},
		{"each module with the workspace off, through the proxy", r.checkModules},
		{"go get each published module in a scratch module and build a program using it", r.installModules},
		{"go run the quickstart at the released version", r.runQuickstart},
		{"the Go snippets of " + strings.Join(r.cfg.Docs, ", ") + " compile", r.compileSnippets},
	}
	for _, s := range steps {
		t := time.Now()
		fmt.Fprintf(r.cfg.Log, "-- %s\n", s.name)
		if err := s.fn(); err != nil {
			return err
		}
		fmt.Fprintf(r.cfg.Log, "   ok (%.1fs)\n", time.Since(t).Seconds())
	}
	fmt.Fprintf(r.cfg.Log, "release rehearsal of %s passed in %.1fs\n", r.version, time.Since(start).Seconds())
	return nil
}

// cloneAndCheck clones the committed HEAD and checks its go.mod files and
// go.work.
func (r *rehearsal) cloneAndCheck() error {
	head, err := run(r.cfg.Repo, nil, "git", "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	head = strings.TrimSpace(head)
	if status, err := run(r.cfg.Repo, nil, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(status) != "" {
		fmt.Fprintf(r.cfg.Log, "   note: uncommitted changes are not rehearsed; rehearsing HEAD %.12s\n", head)
	}
	r.src = filepath.Join(r.tmp, "src")
	if _, err := run("", nil, "git", "clone", "--quiet", "--no-checkout", r.cfg.Repo, r.src); err != nil {
		return err
	}
	if _, err := run(r.src, nil, "git", "checkout", "--quiet", "--detach", head); err != nil {
		return fmt.Errorf("HEAD %s is not on a branch of %s: %w", head, r.cfg.Repo, err)
	}
	files, err := run(r.src, nil, "git", "ls-files", "go.mod", "*/go.mod")
	if err != nil {
		return err
	}
	r.ws, err = loadWorkspace(r.src, strings.Fields(files), r.cfg.Unpublished)
	if err != nil {
		return err
	}
	r.version = r.cfg.Version
	if r.version == "" {
		if r.version, err = r.ws.releaseVersion(); err != nil {
			return err
		}
	}
	if err := r.ws.check(r.version); err != nil {
		return err
	}
	if r.order, err = r.ws.releaseOrder(); err != nil {
		return err
	}
	var tags, unpub []string
	for _, m := range r.order {
		if m.Published {
			tags = append(tags, m.Tag(r.version))
		} else {
			unpub = append(unpub, m.Dir)
		}
	}
	fmt.Fprintf(r.cfg.Log, "   rehearsing %s of HEAD %.12s; tags in release order: %s\n", r.version, head, strings.Join(tags, " "))
	if len(unpub) > 0 {
		fmt.Fprintf(r.cfg.Log, "   never published (built, not installed): %s\n", strings.Join(unpub, " "))
	}
	return nil
}

// lockModuleCache locks the rehearsal's own module cache, which
// rehearsals of every checkout of the repository share: it lives in the
// user's cache directory, so that its path, and with it the build cache's
// vet results for third-party packages, stay the same from run to run.
func (r *rehearsal) lockModuleCache() error {
	cache, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	state := filepath.Join(cache, "typedauth-release-rehearsal")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	if r.unlock, err = lockDir(state); err != nil {
		return err
	}
	r.modcache = filepath.Join(state, "modcache")
	return nil
}

// goEnv returns the environment of the go commands the rehearsal runs:
// workspace off, the rehearsal's proxy first, then the local module cache
// as a proxy, then the upstream proxies; a module cache of its own; the
// checksum database skipped for the rehearsed modules only.
func (r *rehearsal) goEnv() ([]string, error) {
	out, err := run("", nil, "go", "env", "GOMODCACHE", "GOPROXY", "GOFLAGS")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 {
		return nil, fmt.Errorf("unexpected go env output %q", out)
	}
	modcache, goproxy, goflags := lines[0], lines[1], lines[2]
	upstream := r.cfg.upstream
	if upstream == "" {
		upstream = proxiesOnly(goproxy)
	}
	proxies := []string{fileURL(r.proxy)}
	if modcache != "" {
		proxies = append(proxies, fileURL(filepath.Join(modcache, "cache", "download")))
	}
	proxies = append(proxies, upstream)
	root := r.ws.Root().Path
	set := map[string]string{
		"GOWORK":      "off",
		"GOPROXY":     strings.Join(proxies, ","),
		"GOMODCACHE":  r.modcache,
		"GONOSUMDB":   root,
		"GONOPROXY":   "",
		"GOPRIVATE":   "",
		"GOFLAGS":     strings.TrimSpace(goflags + " -modcacherw"),
		"GOTOOLCHAIN": "local",
		// The module cache is kept between runs, but the rehearsed
		// versions change content from run to run, which the go
		// command's index of module cache packages would not notice.
		"GODEBUG": strings.TrimPrefix(os.Getenv("GODEBUG")+",goindex=0", ","),
	}
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env, nil
}

// proxiesOnly returns the proxies of a GOPROXY list without direct and
// off, which would reach version control hosts: the rehearsal talks to
// module proxies only. It returns "off" when none is left.
func proxiesOnly(goproxy string) string {
	var out []string
	for _, p := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" && p != "direct" && p != "off" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "off"
	}
	return strings.Join(out, ",")
}

func fileURL(dir string) string {
	return "file://" + filepath.ToSlash(dir)
}

// withEnv returns env with the given variables set (replacing earlier
// values).
func withEnv(env []string, kv ...string) []string {
	out := make([]string, 0, len(env)+len(kv))
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		keep := true
		for _, s := range kv {
			if sk, _, _ := strings.Cut(s, "="); sk == k {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

// run runs a command in dir and returns its standard output; the error
// carries the command line and everything it printed.
func run(dir string, env []string, name string, args ...string) (string, error) {
	return runContext(context.Background(), dir, env, name, args...)
}

func runContext(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		where := ""
		if dir != "" {
			where = " (in " + dir + ")"
		}
		msg := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return stdout.String(), fmt.Errorf("%s %s%s failed:\n%s", name, strings.Join(args, " "), where, indent(msg))
		}
		return stdout.String(), fmt.Errorf("%s %s%s: %w\n%s", name, strings.Join(args, " "), where, err, indent(msg))
	}
	return stdout.String(), nil
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}
