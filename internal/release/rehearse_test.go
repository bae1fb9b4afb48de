package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// repoRoot returns the root of the repository holding this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("these tests need the repository's git checkout: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRepositoryPassesStaticChecks checks the committed go.work and go.mod
// files of this repository as the rehearsal does, without building
// anything.
func TestRepositoryPassesStaticChecks(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "go.mod", "*/go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := loadWorkspace(root, strings.Fields(string(out)), []string{"bench"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ws.releaseVersion()
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.check(v); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.releaseOrder(); err != nil {
		t.Fatal(err)
	}
}

// faultyClone clones the repository's HEAD into a temporary directory,
// lets edit change its go.mod files, and commits the change.
func faultyClone(t *testing.T, edit func(dir string)) string {
	t.Helper()
	root := repoRoot(t)
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=Rehearsal Test", "-c", "user.email=test@example.com"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("git", "clone", "--quiet", "--no-checkout", root, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	git("checkout", "--quiet", "--detach", strings.TrimSpace(string(head)))
	edit(dir)
	git("commit", "--quiet", "--all", "--message", "inject a fault")
	return dir
}

// editGoMod applies change to the go.mod in dir/sub.
func editGoMod(t *testing.T, dir, sub string, change func(f *modfile.File) error) {
	t.Helper()
	name := filepath.Join(dir, sub, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := change(f); err != nil {
		t.Fatal(err)
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRehearsalFails runs the whole rehearsal on clones of the repository
// with one fault injected in a nested go.mod, and checks that it fails
// with a message naming the go.mod and the fault.
func TestRehearsalFails(t *testing.T) {
	tests := []struct {
		name string
		sub  string
		edit func(f *modfile.File) error
		want []string
	}{
		{
			name: "replace",
			sub:  "adapters/echo",
			edit: func(f *modfile.File) error { return f.AddReplace("github.com/typedauth/auth", "", "../..", "") },
			want: []string{"adapters/echo/go.mod:", "replace github.com/typedauth/auth => ../..: a go.mod must not replace modules"},
		},
		{
			name: "unpublished version of a sibling",
			sub:  "examples",
			edit: func(f *modfile.File) error { return f.AddRequire("github.com/typedauth/auth/auth0", "v0.2.0") },
			want: []string{"examples/go.mod:", "requires github.com/typedauth/auth/auth0 v0.2.0, an unpublished version"},
		},
		{
			// Found by the go command, through the proxies: this one needs
			// the module proxy of GOPROXY (or the module cache) for the
			// modules that do exist.
			name: "third-party version that does not exist",
			sub:  "adapters/echo",
			edit: func(f *modfile.File) error { return f.AddRequire("golang.org/x/text", "v0.999.0") },
			want: []string{"adapters/echo/go.mod: with the workspace off, its requirements cannot all be found", "golang.org/x/text@v0.999.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := faultyClone(t, func(dir string) {
				editGoMod(t, dir, tt.sub, tt.edit)
			})
			var log strings.Builder
			err := rehearse(config{Repo: dir, Unpublished: []string{"bench"}, Docs: []string{"README.md"}, Log: &log})
			if err == nil {
				t.Fatalf("the rehearsal passed; want a failure. Its log:\n%s", log.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the failure does not say %q:\n%v", w, err)
				}
			}
			if strings.Contains(log.String(), "-- go get each published module") {
				t.Errorf("the rehearsal went on past the failing step:\n%s", log.String())
			}
		})
	}
}
