package apikeys

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

const cliUsage = `usage: tracehound keys <command> [flags]

commands:
  create --project P [--name N] [--role admin] [--file PATH]
        create a key for project P; prints the key once (on stdout), stores only its hash
  list [--file PATH]
        list keys: name, project, role, hash prefix (never the keys themselves)
  revoke (--name N | --hash PREFIX) [--file PATH]
        remove a key; a running tracehound refuses it after its next reload

--file defaults to ` + DefaultFile + `, the bearerauth extension's default keys_file.
`

// hashShown is how many hex digits of a key's hash "list" shows: enough to tell keys
// apart and to revoke by, too few to matter if the listing leaks.
const hashShown = 12

// RunCLI runs "tracehound keys ..." with args being the words after the program name;
// a leading "keys" is optional. It returns the process exit code: 0 on success, 1 when
// the operation failed, 2 on a usage error.
func RunCLI(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keys" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "create":
		err = cliCreate(rest, stdout, stderr)
	case "list", "ls":
		err = cliList(rest, stdout, stderr)
	case "revoke", "rm":
		err = cliRevoke(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, cliUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "tracehound keys: unknown command %q\n\n%s", cmd, cliUsage)
		return 2
	}
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "tracehound keys %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "tracehound keys %s: %v\n", cmd, err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("tracehound keys "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", DefaultFile, "keys file (YAML, or JSON when it ends in .json)")
	return fs, file
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package has already printed the problem and the flag list.
		return usageError{msg: "invalid flags"}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q (all options are flags, e.g. --project P)", fs.Arg(0))}
	}
	return nil
}

func cliCreate(args []string, stdout, stderr io.Writer) error {
	fs, file := newFlagSet("create", stderr)
	project := fs.String("project", "", "project the key authenticates as (required)")
	name := fs.String("name", "", "unique name of the key (default key-<hash prefix>)")
	role := fs.String("role", "", `role of the key: "" or "admin"`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *project == "" {
		return usageError{msg: "--project is required"}
	}
	key, e, err := Create(*file, Entry{Project: *project, Name: *name, Role: *role}, time.Now())
	if err != nil {
		return err
	}
	// The key alone goes to stdout so that KEY=$(tracehound keys create ...) works;
	// the explanation goes to stderr.
	fmt.Fprintln(stdout, key)
	fmt.Fprintf(stderr, "Created key %q for project %q%s in %s (sha256 %s).\n",
		e.Name, e.Project, roleSuffix(e.Role), *file, e.KeySHA256[:hashShown])
	fmt.Fprintln(stderr, "This is the only time the key is shown; only its hash is stored. Use it with:")
	fmt.Fprint(stderr, EnvHint(key, "  "))
	return nil
}

func roleSuffix(role string) string {
	if role == "" {
		return ""
	}
	return " with role " + role
}

// EnvHint is the shell lines that point an OpenTelemetry or OpenLLMetry (Traceloop)
// SDK at tracehound with key, each line prefixed with indent.
func EnvHint(key, indent string) string {
	return indent + `export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ` + key + "\"\n" +
		indent + `export TRACELOOP_HEADERS="Authorization=Bearer%20` + key + "\"\n"
}

func cliList(args []string, stdout, stderr io.Writer) error {
	fs, file := newFlagSet("list", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	entries, err := ReadFile(*file)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "no keys file at %s (create a key with \"tracehound keys create --project P\")\n", *file)
		return nil
	}
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROJECT\tROLE\tSHA256\tCREATED")
	plain := 0
	for _, e := range entries {
		hash := e.HashHex()
		if len(hash) > hashShown {
			hash = hash[:hashShown]
		} else if hash == "" {
			hash = "(invalid)"
		}
		created := "-"
		if !e.Created.IsZero() {
			created = e.Created.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", orDash(e.Name), orDash(e.Project), orDash(e.Role), hash, created)
		if e.Key != "" {
			plain++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if plain > 0 {
		fmt.Fprintf(stderr, "warning: %d entries in %s hold a plain key; replace \"key: ...\" with \"key_sha256: <hash>\"\n", plain, *file)
	}
	if _, err := Resolve(entries); err != nil {
		fmt.Fprintf(stderr, "warning: %s: %v; tracehound will not load this file until it is fixed\n", *file, err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cliRevoke(args []string, stdout, stderr io.Writer) error {
	fs, file := newFlagSet("revoke", stderr)
	name := fs.String("name", "", "name of the key to revoke")
	hash := fs.String("hash", "", "prefix (at least 4 hex digits) of the SHA-256 of the key to revoke")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*name == "") == (*hash == "") {
		return usageError{msg: "give exactly one of --name or --hash"}
	}
	removed, err := Revoke(*file, *name, *hash)
	if err != nil {
		return err
	}
	for _, e := range removed {
		h := e.HashHex()
		if len(h) > hashShown {
			h = h[:hashShown]
		}
		fmt.Fprintf(stdout, "revoked key %q of project %q (sha256 %s)\n", e.Name, e.Project, h)
	}
	return nil
}
