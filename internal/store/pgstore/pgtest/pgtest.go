// Package pgtest runs a throwaway PostgreSQL server for tests: initdb into a temporary
// directory, a server on a free 127.0.0.1 port (and a unix socket in the same directory),
// a fresh database per caller. PostgreSQL must be installed (.ci/install-postgres.sh); a
// missing installation fails the test, it is never skipped.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one running PostgreSQL cluster owned by a test.
type Server struct {
	dir  string
	port int
	bin  string
	// runAs is the unprivileged user the server runs as when the test runs as root
	// (initdb refuses root); empty otherwise.
	runAs string
	next  atomic.Int64
}

// BinDir finds the directory of initdb and pg_ctl: $PG_BIN, the newest
// /usr/lib/postgresql/*/bin, or the PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH): run `bash .ci/install-postgres.sh`")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Options tune the server.
type Options struct {
	// Durable keeps fsync and synchronous commit on, as in production, for benchmarks;
	// tests run faster without.
	Durable bool
}

// Start initialises and starts a server without fsync; it is stopped and removed when tb's
// test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith is Start with options.
func StartWith(tb testing.TB, o Options) *Server {
	tb.Helper()
	bin, err := BinDir()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tracehound-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{dir: dir, bin: bin, port: freePort(tb)}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		s.runAs = "postgres"
		u, err := user.Lookup(s.runAs)
		if err != nil {
			tb.Fatalf("running as root, PostgreSQL needs an unprivileged user %q (created by the postgresql package): %v", s.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	flags := []string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(s.port),
		"-k " + dir,
		"-c max_connections=300",
		"-c shared_buffers=128MB",
	}
	if !o.Durable {
		// Test data need not survive a crash.
		flags = append(flags, "-F", "-c full_page_writes=off", "-c synchronous_commit=off")
	}
	opts := strings.Join(flags, " ")
	logFile := filepath.Join(dir, "server.log")
	if out, err := s.command("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", logFile, "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	tb.Cleanup(func() {
		if out, err := s.command("pg_ctl", "stop", "-w", "-m", "immediate", "-D", data).CombinedOutput(); err != nil {
			tb.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return s
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.runAs == "" {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// DSN is the connection string of a database on the server.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, database)
}

// NewDatabase creates an empty database and returns its DSN.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("th_%d_%d", os.Getpid(), s.next.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	return s.DSN(name)
}
