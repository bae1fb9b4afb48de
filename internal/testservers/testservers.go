// Package testservers gives the tests of the store modules real Redis and
// PostgreSQL servers on loopback.
//
// [Main], called from TestMain, uses the servers named by the environment
// (TYPEDAUTH_REDIS_ADDR, TYPEDAUTH_POSTGRES_URL), as .ci/run and
// `eval "$(.ci/services.sh start)"` set them. When they are not set, it
// starts throw-away servers with .ci/services.sh (installing the Debian
// packages when missing), runs the tests and stops them, so that
// `go test github.com/typedauth/auth/...` runs every test on a fresh machine.
// Under CI (CI=true) missing settings are an error instead: CI starts the
// servers once for every package. Tests never skip for want of a server.
//
// [StartRedis] and [StartPostgres] start private servers that a test may stop
// and restart without disturbing the shared ones.
package testservers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables naming the shared servers.
const (
	EnvRedisAddr   = "TYPEDAUTH_REDIS_ADDR"
	EnvPostgresURL = "TYPEDAUTH_POSTGRES_URL"
	envRedisServer = "TYPEDAUTH_REDIS_SERVER"
	envPGBin       = "TYPEDAUTH_PG_BIN"
	envDir         = "TYPEDAUTH_SERVICES_DIR"
)

const howTo = `start the servers first: eval "$(.ci/services.sh start)" from the repository root ` +
	`(and .ci/services.sh stop afterwards)`

// Main runs the tests of m with the shared servers, starting them with
// .ci/services.sh when the environment does not name them (except under CI,
// where that is an error). It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	if os.Getenv(EnvRedisAddr) != "" && os.Getenv(EnvPostgresURL) != "" {
		return m.Run()
	}
	if os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "testservers: %s and %s must be set in CI (.ci/run starts the servers)\n", EnvRedisAddr, EnvPostgresURL)
		return 1
	}
	script, err := findScript()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testservers: %v; %s\n", err, howTo)
		return 1
	}
	out, err := exec.Command("bash", script, "start").Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		fmt.Fprintf(os.Stderr, "testservers: %s start: %v\n%s\n%s\n", script, err, msg, howTo)
		return 1
	}
	env := parseExports(out)
	for k, v := range env {
		os.Setenv(k, v)
	}
	defer exec.Command("bash", script, "stop", env[envDir]).Run()
	return m.Run()
}

// findScript looks for .ci/services.sh in the working directory and its
// parents.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ".ci", "services.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s and %s are not set and .ci/services.sh was not found", EnvRedisAddr, EnvPostgresURL)
		}
		dir = parent
	}
}

func parseExports(out []byte) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// RedisAddr returns the address of the shared Redis server.
func RedisAddr(tb testing.TB) string { return need(tb, EnvRedisAddr) }

// PostgresURL returns the connection URL of the shared PostgreSQL server.
func PostgresURL(tb testing.TB) string { return need(tb, EnvPostgresURL) }

func need(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		tb.Fatalf("%s is not set: call testservers.Main from TestMain, or %s", name, howTo)
	}
	return v
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitTCP polls addr until it accepts a connection or the deadline passes.
func waitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not accept connections after %v: %w", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Redis is a private redis-server that a test can stop and start again on
// the same port.
type Redis struct {
	// Addr is the server's host:port.
	Addr string
	tb   testing.TB
	bin  string
	dir  string
	args []string
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server on a free loopback port, with
// extra command-line arguments such as "--appendonly", "yes"; it is stopped
// when the test ends. Its data directory survives restarts.
func StartRedis(tb testing.TB, args ...string) *Redis {
	tb.Helper()
	bin := os.Getenv(envRedisServer)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("redis-server"); err != nil {
			tb.Fatalf("redis-server not found (%v); %s", err, howTo)
		}
	}
	r := &Redis{tb: tb, bin: bin, dir: tb.TempDir(), args: args, Addr: "127.0.0.1:" + strconv.Itoa(freePort(tb))}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

// Start starts the server if it is stopped, and waits until it listens.
func (r *Redis) Start() {
	r.tb.Helper()
	if r.cmd != nil {
		return
	}
	_, port, _ := net.SplitHostPort(r.Addr)
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--logfile", filepath.Join(r.dir, "redis.log")}, r.args...)
	cmd := exec.Command(r.bin, args...)
	if err := cmd.Start(); err != nil {
		r.tb.Fatalf("start redis-server: %v", err)
	}
	r.cmd = cmd
	if err := waitTCP(r.Addr, 10*time.Second); err != nil {
		r.tb.Fatal(err)
	}
}

// Stop kills the server, losing its data, and waits for it to exit.
func (r *Redis) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// Postgres is a private PostgreSQL cluster that a test can stop and start
// again on the same port.
type Postgres struct {
	// URL is the connection URL of the superuser postgres.
	URL  string
	tb   testing.TB
	bin  string
	dir  string
	port int
}

// StartPostgres creates and starts a private PostgreSQL cluster on a free
// loopback port; it is stopped and removed when the test ends. As root, the
// cluster runs as the postgres user, since PostgreSQL refuses to run as root.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bin := os.Getenv(envPGBin)
	if bin == "" {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(matches) == 0 {
			tb.Fatalf("PostgreSQL binaries not found; %s", howTo)
		}
		bin = filepath.Dir(matches[len(matches)-1])
	}
	dir, err := os.MkdirTemp("", "typedauth-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("running as root needs the postgres user of the postgresql package: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	p := &Postgres{tb: tb, bin: bin, dir: dir, port: freePort(tb)}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	if out, err := p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start()
	tb.Cleanup(p.Stop)
	return p
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	return cmd.CombinedOutput()
}

// Start starts the cluster and waits until it accepts connections.
func (p *Postgres) Start() {
	p.tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir)
	if out, err := p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		p.tb.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// Stop stops the cluster (fast mode: connections are closed at once,
// committed data is kept).
func (p *Postgres) Stop() {
	if _, err := os.Stat(filepath.Join(p.data(), "postmaster.pid")); err != nil {
		return
	}
	if out, err := p.run("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop"); err != nil {
		p.tb.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
}
