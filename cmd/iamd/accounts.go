package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"iamd"
	"iamd/account"
)

// stdin is where set-password reads the new password: never from the command line, where
// other users of the machine could read it in the process list.
var stdin io.Reader = os.Stdin

func userCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: iamd user set-password|unlock|enable --instance ID LOGIN")
	}
	var temporary *bool
	var hash, keycloakSecret, keycloakCredential *string
	c, err := openAdminCommand(ctx, "user "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		temporary = fs.Bool("temporary", false, "set-password: the user must change it at the next sign-in")
		hash = fs.String("hash", "", "set-password: import this hash instead of reading a password (argon2id, argon2i, bcrypt, $pbkdf2-sha256$, $pbkdf2-sha512$)")
		keycloakSecret = fs.String("keycloak-secret-data", "", "set-password: import a Keycloak password credential: its secretData JSON")
		keycloakCredential = fs.String("keycloak-credential-data", "", "set-password: … and its credentialData JSON")
	})
	if err != nil {
		return err
	}
	defer c.backend.Close()
	fs, instance := c.fs, c.instance
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: iamd user %s --instance ID LOGIN", args[0])
	}
	var change iamd.UserChange
	var done string
	switch args[0] {
	case "set-password":
		pw := &iamd.NewPassword{Temporary: *temporary}
		switch {
		case *keycloakSecret != "" || *keycloakCredential != "":
			if pw.Hash, err = account.KeycloakHash(*keycloakSecret, *keycloakCredential); err != nil {
				return err
			}
		case *hash != "":
			pw.Hash = *hash
		default:
			line, err := bufio.NewReader(io.LimitReader(stdin, iamd.MaxPasswordBytes+2)).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if pw.Clear = strings.TrimRight(line, "\r\n"); pw.Clear == "" {
				return fmt.Errorf("set-password reads the new password from standard input; got none")
			}
		}
		change.Password, done = pw, "password set for"
	case "unlock":
		unlocked := false
		change.Locked, done = &unlocked, "unlocked"
	case "enable":
		// The break-glass path: the operator at the database may enable any user, the
		// built-in administrator included, which no API caller can disable anyway.
		active, unlocked, notExpired := iamd.UserActive, false, false
		change.Status, change.Locked, change.Expired, done = &active, &unlocked, &notExpired, "enabled"
	default:
		return fmt.Errorf("unknown user command %q (set-password, unlock, enable)", args[0])
	}
	u, err := c.backend.ChangeUser(ctx, instance, fs.Arg(0), change)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "%s %s\n", done, u.LoginName)
	return nil
}

func keyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: iamd key create|list --instance ID LOGIN, iamd key revoke --instance ID ACCESS_KEY")
	}
	var description *string
	var expiresIn *time.Duration
	c, err := openAdminCommand(ctx, "key "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		description = fs.String("description", "", "create: what the key is for")
		expiresIn = fs.Duration("expires-in", 0, "create: the key stops working after this long (default: never)")
	})
	if err != nil {
		return err
	}
	defer c.backend.Close()
	fs, svc, instance := c.fs, c.backend, c.instance
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: iamd key %s --instance ID %s", args[0], map[bool]string{true: "ACCESS_KEY", false: "LOGIN"}[args[0] == "revoke"])
	}
	if args[0] == "revoke" {
		if err := svc.RevokeAccessKey(ctx, instance, fs.Arg(0)); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
		return nil
	}
	switch args[0] {
	case "create":
		opts := iamd.CredentialOptions{Description: *description}
		if *expiresIn > 0 {
			at := time.Now().Add(*expiresIn)
			opts.ExpiresAt = &at
		}
		k, secret, err := svc.CreateAccessKey(ctx, instance, fs.Arg(0), opts)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "access key: %s\nsecret key: %s\n(the secret is shown this once)\n", k.ID, secret)
		return nil
	case "list":
		keys, err := svc.ListAccessKeys(ctx, instance, fs.Arg(0))
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY\tCREATED\tEXPIRES\tLAST USED\tDESCRIPTION")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.CreatedAt.Format(time.RFC3339), orNever(k.ExpiresAt, "never"),
				orNever(k.LastUsedAt, "never"), k.Description)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown key command %q (create, list, revoke)", args[0])
}

func orNever(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Format(time.RFC3339)
}
