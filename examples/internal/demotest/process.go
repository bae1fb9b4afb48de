package demotest

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMainEnv, set to 1 in the environment of a test binary, makes MainExit
// and MainSignal run the program's main function instead of testing it.
const runMainEnv = "DEMOTEST_RUN_MAIN"

// subprocessTimeout bounds the run of a subprocess.
const subprocessTimeout = 20 * time.Second

// inChild reports whether this process is the subprocess of MainExit or
// MainSignal, and if so runs main.
func inChild(main func()) bool {
	if os.Getenv(runMainEnv) != "1" {
		return false
	}
	main()
	return true
}

// command returns a command that runs the current test binary again, as a
// subprocess that runs only the test tb and, in it, main, with env added to
// this process's environment. tb must be a top-level test.
func command(ctx context.Context, tb testing.TB, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(tb.Name())+"$")
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	return cmd
}

// MainExit checks that the program exits with status 1 and a single line on
// standard error, starting with wantStderr, when main runs with env (such
// as "JWT_SECRET=short") added to the environment. It runs the test binary
// again as a subprocess in which the same test runs main: call it from a
// top-level test, passing the program's main, with nothing before it but
// t.Parallel. In that subprocess MainExit runs main and returns.
func MainExit(tb testing.TB, main func(), env []string, wantStderr string) {
	tb.Helper()
	if inChild(main) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), subprocessTimeout)
	defer cancel()
	cmd := command(ctx, tb, env)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		tb.Fatalf("exit = %v; want status 1", err)
	}
	got := stderr.String()
	if !strings.HasPrefix(got, wantStderr) || strings.Count(got, "\n") != 1 {
		tb.Errorf("stderr = %q; want one line starting %q", got, wantStderr)
	}
}

// MainSignal checks that the program, once main serves with env added to
// the environment (ADDR=127.0.0.1:0 among it), answers requests, and that
// on SIGTERM, as a process manager sends, it shuts down gracefully and
// exits with status 0. Call it as MainExit.
func MainSignal(tb testing.TB, main func(), env []string) {
	tb.Helper()
	if inChild(main) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), subprocessTimeout)
	defer cancel()
	cmd := command(ctx, tb, env)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	// Read the address, then drain the rest until the program exits.
	addr := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if base, ok := strings.CutPrefix(sc.Text(), listening); ok {
				addr <- base
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case <-drained:
		_ = cmd.Wait()
		tb.Fatal("the program exited without printing its address")
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		tb.Fatalf("the program does not answer before the signal: %v", err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	<-drained
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("after SIGTERM: %v; want exit status 0", err)
	}
}
