package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// buildProxy tags each published module in the clone and writes, for each,
// the files a GOPROXY serves: <path>/@v/list, <version>.info, .mod and .zip.
// The zip is made from the tag by golang.org/x/mod/zip, which leaves out
// nested modules and everything else the go command would.
func (r *rehearsal) buildProxy() error {
	r.proxy = filepath.Join(r.tmp, "proxy")
	if err := r.lockModuleCache(); err != nil {
		return err
	}
	if err := r.forgetRehearsedVersions(); err != nil {
		return err
	}
	for _, m := range r.order {
		if !m.Published {
			continue
		}
		tag := m.Tag(r.version)
		if _, err := run(r.src, nil, "git", "tag", "--force", tag); err != nil {
			return err
		}
		if err := r.publish(m, tag); err != nil {
			return fmt.Errorf("publishing %s at %s: %w", m.Path, tag, err)
		}
	}
	var err error
	r.env, err = r.goEnv()
	return err
}

// forgetRehearsedVersions removes the repository's modules from the
// rehearsal's module cache, so that this run's zips replace the last run's
// at the same version. The rest of the cache is kept, and its path stays
// the same, so that third-party modules are neither extracted nor vetted
// again on every run (vet results are cached by file path).
func (r *rehearsal) forgetRehearsedVersions() error {
	escaped, err := module.EscapePath(r.ws.Root().Path)
	if err != nil {
		return err
	}
	owner := filepath.FromSlash(path.Dir(escaped))
	for _, dir := range []string{filepath.Join(r.modcache, owner), filepath.Join(r.modcache, "cache", "download", owner)} {
		if err := removeAll(dir); err != nil {
			return err
		}
	}
	return nil
}

// removeAll removes dir, making read-only directories of a module cache
// writable first.
func removeAll(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// publish writes the proxy files of module m from tag.
func (r *rehearsal) publish(m *workModule, tag string) error {
	mv := module.Version{Path: m.Path, Version: r.version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var zip bytes.Buffer
	subdir := ""
	if m.Dir != "." {
		subdir = m.Dir
	}
	if err := modzip.CreateFromVCS(&zip, mv, r.src, tag, subdir); err != nil {
		return err
	}
	gomod, err := run(r.src, nil, "git", "show", tag+":"+strings.TrimPrefix(m.GoModName(), "./"))
	if err != nil {
		return err
	}
	when, err := run(r.src, nil, "git", "log", "-1", "--format=%cI", tag)
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(when))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{r.version, t.UTC()})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"list":              []byte(r.version + "\n"),
		r.version + ".info": info,
		r.version + ".mod":  []byte(gomod),
		r.version + ".zip":  zip.Bytes(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.cfg.Log, "   %s %s: %d KiB zip\n", m.Path, r.version, (zip.Len()+1023)/1024)
	return nil
}

// checkModules checks every module of go.work on its own, in release
// order, as the proxy serves its siblings: its requirements resolve
// (first for all modules, which is quick, then the builds), go vet passes
// on every package and test, go mod verify passes, and its go.mod needs no
// change. Unpublished modules are checked too: they must build against the
// published ones.
func (r *rehearsal) checkModules() error {
	env := withEnv(r.env, "GOFLAGS="+goflags(r.env)+" -mod=mod")
	t := time.Now()
	for _, m := range r.order {
		dir := filepath.Join(r.src, filepath.FromSlash(m.Dir))
		if _, err := run(dir, env, "go", "list", "-m", "all"); err != nil {
			return fmt.Errorf("%s: with the workspace off, its requirements cannot all be found: it requires a version that is not published (or not yet tagged, for this repository's modules):\n%w", m.GoModName(), err)
		}
	}
	fmt.Fprintf(r.cfg.Log, "   every module's requirements resolve (%.1fs)\n", time.Since(t).Seconds())
	for _, m := range r.order {
		t := time.Now()
		dir := filepath.Join(r.src, filepath.FromSlash(m.Dir))
		before, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			return err
		}
		if _, err := run(dir, env, "go", "vet", "./..."); err != nil {
			return fmt.Errorf("%s: with the workspace off, go vet ./... fails against the published modules:\n%w", m.GoModName(), err)
		}
		if _, err := run(dir, env, "go", "mod", "verify"); err != nil {
			return fmt.Errorf("%s: go mod verify fails:\n%w", m.GoModName(), err)
		}
		after, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			return err
		}
		if !bytes.Equal(before, after) {
			diff, _ := run(r.src, nil, "git", "diff", "--", m.GoModName())
			return fmt.Errorf("%s is not tidy: with the workspace off the go command changes it (a requirement missing, or marked // indirect wrongly); run GOWORK=off go mod tidy in %s (with a temporary replace of the siblings for a nested module, removed before committing):\n%s", m.GoModName(), m.Dir, indent(diff))
		}
		fmt.Fprintf(r.cfg.Log, "   %s: go vet, go mod verify (%.1fs)\n", m.Dir, time.Since(t).Seconds())
	}
	return nil
}

// goflags returns the GOFLAGS of env.
func goflags(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			return v
		}
	}
	return ""
}
