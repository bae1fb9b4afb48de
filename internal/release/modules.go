package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// A workModule is one module of the workspace, as committed.
type workModule struct {
	Dir       string // slash-separated, relative to the repository root; "." for the root module
	Path      string // module path
	File      *modfile.File
	Published bool
}

// Tag returns the tag that publishes the module at version v.
func (m *workModule) Tag(v string) string {
	if m.Dir == "." {
		return v
	}
	return m.Dir + "/" + v
}

// GoModName returns the name of the module's go.mod, relative to the
// repository root, for messages.
func (m *workModule) GoModName() string { return path.Join(m.Dir, "go.mod") }

// workspace is what the rehearsal reads from a checkout: go.work, and the
// go.mod of each module that go.work uses.
type workspace struct {
	Work    *modfile.WorkFile
	Modules []*workModule // root module first
}

// Root returns the root module.
func (w *workspace) Root() *workModule { return w.Modules[0] }

// byPath returns the module with the given path, or nil.
func (w *workspace) byPath(p string) *workModule {
	for _, m := range w.Modules {
		if m.Path == p {
			return m
		}
	}
	return nil
}

// loadWorkspace reads go.work and the go.mod files of the checkout at dir.
// goModFiles lists the go.mod files that version control tracks (slash
// separated, relative to dir): each must be used by go.work and the other
// way round, so that a module cannot escape the rehearsal.
func loadWorkspace(dir string, goModFiles []string, unpublished []string) (*workspace, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.work"))
	if err != nil {
		return nil, fmt.Errorf("reading go.work: %w", err)
	}
	work, err := modfile.ParseWork("go.work", data, nil)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, u := range work.Use {
		d := path.Clean(filepath.ToSlash(u.Path))
		if strings.HasPrefix(d, "../") || d == ".." || path.IsAbs(d) {
			return nil, fmt.Errorf("go.work uses %s, which is outside the repository", u.Path)
		}
		dirs = append(dirs, d)
	}
	tracked := map[string]bool{}
	for _, f := range goModFiles {
		tracked[path.Dir(f)] = true
	}
	var errs []error
	for _, d := range dirs {
		if !tracked[d] {
			errs = append(errs, fmt.Errorf("go.work uses %s, but %s is not committed", d, path.Join(d, "go.mod")))
		}
		delete(tracked, d)
	}
	for _, d := range sortedKeys(tracked) {
		errs = append(errs, fmt.Errorf("%s is committed but go.work does not use %s: add it to go.work so that it is developed, tested and released with the others", path.Join(d, "go.mod"), d))
	}
	if !slices.Contains(dirs, ".") {
		errs = append(errs, errors.New("go.work does not use the root module (.)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		if a == "." || b == "." {
			return boolInt(b == ".") - boolInt(a == ".")
		}
		return strings.Compare(a, b)
	})
	ws := &workspace{Work: work}
	for _, d := range dirs {
		name := path.Join(d, "go.mod")
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return nil, err
		}
		if f.Module == nil {
			return nil, fmt.Errorf("%s has no module directive", name)
		}
		ws.Modules = append(ws.Modules, &workModule{Dir: d, Path: f.Module.Mod.Path, File: f, Published: published(d, unpublished)})
	}
	return ws, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// published reports whether the module in dir is published: not listed in
// unpublished, and not under an internal directory (whose packages no user
// could import anyway).
func published(dir string, unpublished []string) bool {
	for _, u := range unpublished {
		if path.Clean(u) == dir {
			return false
		}
	}
	return !slices.Contains(strings.Split(dir, "/"), "internal")
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// siblingRequires returns, for each module, its requirements of other
// modules of the repository: paths with the root module's path as prefix.
func (w *workspace) siblingRequires(m *workModule) []*modfile.Require {
	root := w.Root().Path
	var out []*modfile.Require
	for _, r := range m.File.Require {
		if r.Mod.Path == root || strings.HasPrefix(r.Mod.Path, root+"/") {
			out = append(out, r)
		}
	}
	return out
}

// releaseVersion returns the version that the nested modules require of
// their siblings: the version to rehearse when none is given. Every such
// requirement must name one version; check reports those that do not, so
// the most common one is taken here.
func (w *workspace) releaseVersion() (string, error) {
	count := map[string]int{}
	for _, m := range w.Modules {
		for _, r := range w.siblingRequires(m) {
			count[r.Mod.Version]++
		}
	}
	if len(count) == 0 {
		return "", errors.New("no module requires another module of the repository, so the version to rehearse cannot be inferred: pass -version")
	}
	best, n, tie := "", 0, false
	for v, c := range count {
		switch {
		case c > n:
			best, n, tie = v, c, false
		case c == n:
			tie = true
		}
	}
	if tie {
		return "", fmt.Errorf("the nested modules require their siblings at several versions equally often (%s): pass -version", strings.Join(sortedCountKeys(count), ", "))
	}
	return best, nil
}

func sortedCountKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// check reports every reason why the workspace cannot be released at
// version as it stands: a module path that does not match its directory, a
// replace directive in a go.mod (ignored when the module is a dependency,
// so a user would build something else than what was tested), a
// requirement of a sibling module at another version than the one
// released, or of one that is not published, and a go.work that does not
// map a required sibling version to its directory.
func (w *workspace) check(version string) error {
	var errs []error
	if !semver.IsValid(version) || semver.Canonical(version) != version || semver.Build(version) != "" {
		errs = append(errs, fmt.Errorf("%q is not a canonical semantic version such as v0.1.0", version))
	}
	root := w.Root()
	for _, m := range w.Modules {
		want := root.Path
		if m.Dir != "." {
			want = root.Path + "/" + m.Dir
		}
		if m.Path != want {
			errs = append(errs, fmt.Errorf("%s: module path %s does not match its directory: it must be %s, since tag %s publishes that path", m.GoModName(), m.Path, want, m.Tag(version)))
		}
		for _, r := range m.File.Replace {
			errs = append(errs, fmt.Errorf("%s:%d: replace %s => %s: a go.mod must not replace modules: the go command ignores replace directives in a dependency's go.mod, so users would build against the required version, not what was tested; require a published version and let go.work tie the modules together during development",
				m.GoModName(), r.Syntax.Start.Line, modString(r.Old), modString(r.New)))
		}
		for _, r := range w.siblingRequires(m) {
			sib := w.byPath(r.Mod.Path)
			switch {
			case sib == nil:
				errs = append(errs, fmt.Errorf("%s:%d: requires %s %s, which is not a module of this repository (go.work uses no directory with that module path)", m.GoModName(), r.Syntax.Start.Line, r.Mod.Path, r.Mod.Version))
			case !sib.Published:
				errs = append(errs, fmt.Errorf("%s:%d: requires %s %s, which is never published (%s is unpublished), so users could not build %s", m.GoModName(), r.Syntax.Start.Line, r.Mod.Path, r.Mod.Version, sib.Dir, m.Path))
			case r.Mod.Version != version:
				errs = append(errs, fmt.Errorf("%s:%d: requires %s %s, an unpublished version: this release publishes every module at %s, so a nested module must require its siblings at %s (bump every such requirement, and go.work's replace lines, in one commit)", m.GoModName(), r.Syntax.Start.Line, r.Mod.Path, r.Mod.Version, version, version))
			}
		}
	}
	errs = append(errs, w.checkWorkReplaces(version)...)
	return errors.Join(errs...)
}

// checkWorkReplaces checks that go.work maps each sibling version that a
// module requires to that sibling's directory, and replaces nothing else:
// the go command reads the go.mod of a required version even when the
// workspace provides the module, so without that line the workspace would
// need the version to be published already.
func (w *workspace) checkWorkReplaces(version string) []error {
	var errs []error
	required := map[string]bool{}
	for _, m := range w.Modules {
		for _, r := range w.siblingRequires(m) {
			if r.Mod.Version == version && w.byPath(r.Mod.Path) != nil {
				required[r.Mod.Path] = true
			}
		}
	}
	for _, r := range w.Work.Replace {
		m := w.byPath(r.Old.Path)
		dir := path.Clean(filepath.ToSlash(r.New.Path))
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("go.work:%d: replace %s => %s: go.work may only map versions of the repository's own modules to their directories", r.Syntax.Start.Line, modString(r.Old), modString(r.New)))
		case r.New.Version != "" || dir != m.Dir:
			errs = append(errs, fmt.Errorf("go.work:%d: replace %s => %s: it must point at the module's directory, ./%s", r.Syntax.Start.Line, modString(r.Old), modString(r.New), strings.TrimPrefix(m.Dir, ".")))
		case r.Old.Version == "":
			errs = append(errs, fmt.Errorf("go.work:%d: replace %s => %s must name the version its siblings require (%s %s => ./%s)", r.Syntax.Start.Line, modString(r.Old), modString(r.New), r.Old.Path, version, strings.TrimPrefix(m.Dir, ".")))
		case r.Old.Version == version:
			delete(required, r.Old.Path)
		}
	}
	for _, p := range sortedKeys(required) {
		m := w.byPath(p)
		errs = append(errs, fmt.Errorf("go.work: add %q to its replace block: modules require %s %s, and the workspace must not need that version to be published", p+" "+version+" => ./"+strings.TrimPrefix(m.Dir, "."), p, version))
	}
	return errs
}

func modString(v interface{ String() string }) string { return v.String() }

// releaseOrder returns the published modules in the order they are
// tagged: every module after the modules it requires.
func (w *workspace) releaseOrder() ([]*workModule, error) {
	var order []*workModule
	state := map[*workModule]int{} // 1: visiting, 2: done
	var visit func(m *workModule, chain []string) error
	visit = func(m *workModule, chain []string) error {
		switch state[m] {
		case 1:
			return fmt.Errorf("modules require each other in a cycle (%s), so they cannot be tagged in order", strings.Join(append(chain, m.Dir), " -> "))
		case 2:
			return nil
		}
		state[m] = 1
		for _, r := range w.siblingRequires(m) {
			if sib := w.byPath(r.Mod.Path); sib != nil {
				if err := visit(sib, append(chain, m.Dir)); err != nil {
					return err
				}
			}
		}
		state[m] = 2
		order = append(order, m)
		return nil
	}
	for _, m := range w.Modules {
		if err := visit(m, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
