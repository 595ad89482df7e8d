// Command iamd is the iamd user directory server and its administration tool.
//
//	iamd serve                      run the server (zero config: 127.0.0.1:8080, ./iamd-data)
//	iamd instance create|list       manage instances (tenants)
//	iamd group create|list          manage groups of an instance
//	iamd sign METHOD URL            sign an SCP request for curl, or run it
//
// Every flag has an environment twin: --database-url is IAMD_DATABASE_URL, and so on.
// A flag given on the command line wins over its twin.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `iamd — one user directory, many vendor APIs.

Usage:
  iamd serve [flags]                       run the server
  iamd instance create [--name NAME] ID    create an instance
  iamd instance list                       list instances and their account policies
  iamd instance delete ID                  delete an instance with its users, groups, roles and credentials
  iamd instance set-policy [--password-min-length N] [--password-history N] [--password-max-age D]
                           [--lockout-threshold N] [--lockout-duration D] ID
  iamd group create --instance ID [--id UUID] [--description TEXT] NAME
  iamd group list --instance ID
  iamd sign [flags] METHOD URL             print a signed curl command for the SCP face (or --run it)
  iamd user set-password --instance ID [--temporary] LOGIN   new password read from standard input
  iamd user set-password --instance ID --hash HASH LOGIN     import a bcrypt, PBKDF2 or argon2 hash
  iamd user unlock --instance ID LOGIN
  iamd user enable --instance ID LOGIN                         reactivate a suspended user
  iamd key create --instance ID [--description TEXT] [--expires-in DURATION] LOGIN
  iamd key list --instance ID LOGIN
  iamd key revoke --instance ID ACCESS_KEY
  iamd role create --instance ID --privileges P1,P2 [--description TEXT] NAME
  iamd role list|delete --instance ID [NAME]
  iamd role grant --instance ID LOGIN [ROLE…]                 replaces the user's roles
  iamd events export --instance ID [--since T] [--until T]    the audit trail as NDJSON, newest first
  iamd bench [--preload N] [--clients N] [--duration D] [--workloads a,b] [--url URL]
                                           load iamd as its clients do (signed SCP, SCIM with an API token,
                                           sign-in); reports beside a same-run baseline

The instance, group, user, key, role and events commands act on the database (--data-dir or
--database-url) as the operator, or with --url http://HOST:PORT --token TOKEN on a running server
through its native API, as the token's holder.

Run "iamd COMMAND -h" for a command's flags. Every flag has an IAMD_* environment twin
(--database-url ↔ IAMD_DATABASE_URL); the command line wins.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// errNoCommand is a command line without a command: the usage has been printed to
// standard error, and iamd exits 2 without another word.
var errNoCommand = errors.New("no command")

// exitCode is what iamd exits with after run: 0 when it succeeded or when help was asked
// for (-h, --help: the usage went to standard error, printed by the flag package, or to
// standard output for "iamd help"); 2 for any failure, named on stderr unless the usage
// already said it.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errNoCommand):
		return 2
	default:
		fmt.Fprintln(stderr, "iamd:", err)
		return 2
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// commandUsage is the lines of the usage that describe cmd ("iamd cmd …" and their
// continuation lines).
func commandUsage(cmd string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(usage) {
		if strings.HasPrefix(line, "  iamd ") {
			in = strings.HasPrefix(line, "  iamd "+cmd+" ")
		} else if !strings.HasPrefix(line, "    ") {
			in = false
		}
		if in {
			b.WriteString(line)
		}
	}
	return "Usage:\n" + b.String() + "\nRun \"iamd " + cmd + " SUBCOMMAND -h\" for a subcommand's flags.\n"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errNoCommand
	}
	switch cmd, rest := args[0], args[1:]; {
	case (cmd == "instance" || cmd == "group" || cmd == "user" || cmd == "key" || cmd == "role") && len(rest) > 0 && isHelp(rest[0]):
		// A command that takes a subcommand first, asked for help instead of one: its
		// lines of the usage, on standard error as the flag package prints a flag set's.
		fmt.Fprint(stderr, commandUsage(cmd))
		return flag.ErrHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "instance":
		return instanceCommand(ctx, rest, stdout, stderr)
	case "group":
		return groupCommand(ctx, rest, stdout, stderr)
	case "sign":
		return signCommand(ctx, rest, stdout, stderr)
	case "user":
		return userCommand(ctx, rest, stdout, stderr)
	case "key":
		return keyCommand(ctx, rest, stdout, stderr)
	case "role":
		return roleCommand(ctx, rest, stdout, stderr)
	case "events":
		return eventsCommand(ctx, rest, stdout, stderr)
	case "bench":
		return benchCommand(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// envName is a flag's environment twin: --database-url → IAMD_DATABASE_URL.
func envName(flagName string) string {
	return "IAMD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then gives every flag not on the command line the value of its
// IAMD_* twin, if set and not empty.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v := os.Getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}
