package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"iamd"
)

// cliPrincipal is who the admin commands act as: the operator at the database, a
// platform administrator to whom even built-in users are not immutable (the break-glass
// path), recorded in the audit log under this name.
var cliPrincipal = &iamd.Principal{Name: "iamd-cli", PlatformAdmin: true, Operator: true}

func adminContext(ctx context.Context) context.Context {
	return iamd.NewContextWithOrigin(iamd.NewContextWithPrincipal(ctx, cliPrincipal), iamd.Origin{Face: "cli", Address: "cli"})
}

func instanceCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: iamd instance create|list|set-policy|delete")
	}
	var name *string
	var duplicateGroupNames *bool
	var minLen, history, threshold *int
	var maxAge, lockFor *time.Duration
	c, err := openAdminCommand(ctx, "instance "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "display name (create; default: the id)")
		duplicateGroupNames = fs.Bool("duplicate-group-names", false, "create: let groups of the instance share a name (by default a name is unique, ignoring case)")
		d := iamd.DefaultAccountPolicy
		minLen = fs.Int("password-min-length", d.PasswordMinLength, "set-policy: shortest password, in characters")
		history = fs.Int("password-history", d.PasswordHistory, "set-policy: how many of the last passwords may not be reused")
		maxAge = fs.Duration("password-max-age", d.PasswordMaxAge, "set-policy: passwords older than this must be changed at sign-in (0: never)")
		threshold = fs.Int("lockout-threshold", d.LockoutThreshold, "set-policy: consecutive failed sign-ins that lock the account")
		lockFor = fs.Duration("lockout-duration", d.LockoutDuration, "set-policy: how long a lock lasts unless lifted by 'iamd user unlock'")
	})
	if err != nil {
		return err
	}
	defer c.backend.Close()
	fs, svc := c.fs, c.backend
	switch args[0] {
	case "create":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd instance create [--name NAME] ID")
		}
		inst, err := svc.CreateInstance(ctx, &iamd.Instance{ID: fs.Arg(0), Name: *name, DuplicateGroupNames: *duplicateGroupNames})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created instance %s\n", inst.ID)
		return nil
	case "list":
		list, err := svc.ListInstances(ctx)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tPASSWORDS\tLOCKOUT")
		for _, inst := range list {
			p := inst.Policy
			fmt.Fprintf(tw, "%s\t%s\t%s\tmin %d, history %d, max age %s\t%d failures, %s\n", inst.ID, inst.Name,
				inst.CreatedAt.Format(time.RFC3339), p.PasswordMinLength, p.PasswordHistory, p.PasswordMaxAge,
				p.LockoutThreshold, p.LockoutDuration)
		}
		return tw.Flush()
	case "set-policy":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd instance set-policy [--password-min-length N] [--password-history N] [--password-max-age D] [--lockout-threshold N] [--lockout-duration D] ID")
		}
		policy := iamd.AccountPolicy{PasswordMinLength: *minLen, PasswordHistory: *history, PasswordMaxAge: *maxAge,
			LockoutThreshold: *threshold, LockoutDuration: *lockFor}
		if err := svc.SetAccountPolicy(ctx, fs.Arg(0), policy); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "policy of %s set\n", fs.Arg(0))
		return nil
	case "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd instance delete ID")
		}
		if err := svc.DeleteInstance(ctx, fs.Arg(0)); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "deleted instance %s with its users, groups, roles and credentials\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("unknown instance command %q (create, list, set-policy, delete)", args[0])
}

func groupCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: iamd group create|list --instance ID")
	}
	var id, description *string
	c, err := openAdminCommand(ctx, "group "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		id = fs.String("id", "", "group id, a UUID (create; default: generated)")
		description = fs.String("description", "", "description (create)")
	})
	if err != nil {
		return err
	}
	defer c.backend.Close()
	fs, instance, svc := c.fs, &c.instance, c.backend
	switch args[0] {
	case "create":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd group create --instance ID [--id UUID] [--description TEXT] NAME")
		}
		g, err := svc.CreateGroup(ctx, &iamd.Group{ID: *id, InstanceID: *instance, Name: fs.Arg(0), Description: *description})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created group %s (%s) in instance %s\n", g.ID, g.Name, g.InstanceID)
		return nil
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tMEMBERS\tDESCRIPTION")
		if err := svc.ListGroups(ctx, *instance, func(g iamd.Group) {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", g.ID, g.Name, g.MemberCount, g.Description)
		}); err != nil {
			return describe(err)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown group command %q (create, list)", args[0])
}

// adminCommand is what every admin command starts with: its flags parsed (the store's
// or --url's, --instance and the command's own) and its backend open.
type adminCommand struct {
	fs       *flag.FlagSet
	backend  backend
	instance string
}

// openAdminCommand parses the command's flags and opens its backend: the database, or
// with --url a running server's native API.
func openAdminCommand(ctx context.Context, name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*adminCommand, error) {
	c := &adminCommand{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(stderr)
	var st storeFlags
	st.register(c.fs)
	serverURL := c.fs.String("url", "", "act through the native API of the server at this address (http://host:port) instead of on the database")
	token := c.fs.String("token", "", "with --url: the bearer token to act with (an API token or a session token)")
	c.fs.StringVar(&c.instance, "instance", "default", "the instance")
	if extra != nil {
		extra(c.fs)
	}
	if err := parseFlags(c.fs, args); err != nil {
		return nil, err
	}
	if *serverURL != "" {
		b, err := newRemoteBackend(*serverURL, *token)
		if err != nil {
			return nil, err
		}
		c.backend = b
		return c, nil
	}
	b, err := newLocalBackend(ctx, st, os.Getenv("IAMD_MASTER_KEY"))
	if err != nil {
		return nil, err
	}
	c.backend = b
	return c, nil
}

// describe turns a domain error into a one-line message for a person at a terminal.
func describe(err error) error {
	if iamd.ErrorCode(err) == iamd.EINTERNAL {
		return err
	}
	if f := iamd.ErrorField(err); f != "" {
		return fmt.Errorf("%s: %s", f, iamd.ErrorMessage(err))
	}
	return fmt.Errorf("%s", iamd.ErrorMessage(err))
}

func roleCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: iamd role create|list|delete --instance ID")
	}
	var privileges, description *string
	c, err := openAdminCommand(ctx, "role "+args[0], args[1:], stderr, func(fs *flag.FlagSet) {
		privileges = fs.String("privileges", "", "create: comma-separated privileges, e.g. USER_READ,GROUP_READ")
		description = fs.String("description", "", "create: what the role is for")
	})
	if err != nil {
		return err
	}
	defer c.backend.Close()
	fs, instance, svc := c.fs, &c.instance, c.backend
	switch args[0] {
	case "create":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd role create --instance ID --privileges P1,P2 [--description TEXT] NAME")
		}
		var privs []string
		for _, p := range strings.Split(*privileges, ",") {
			if p = strings.TrimSpace(p); p != "" {
				privs = append(privs, p)
			}
		}
		r, err := svc.CreateRole(ctx, &iamd.Role{InstanceID: *instance, Name: fs.Arg(0), Description: *description, Privileges: privs})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created role %s (%s)\n", r.Name, strings.Join(r.Privileges, ", "))
		return nil
	case "list":
		roles, err := svc.ListRoles(ctx, *instance)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tBUILT-IN\tPRIVILEGES\tDESCRIPTION")
		for _, r := range roles {
			fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", r.Name, r.Builtin, strings.Join(r.Privileges, ","), r.Description)
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: iamd role delete --instance ID NAME")
		}
		if err := svc.DeleteRole(ctx, *instance, fs.Arg(0)); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "deleted role %s\n", fs.Arg(0))
		return nil
	case "grant":
		if fs.NArg() < 1 {
			return fmt.Errorf("usage: iamd role grant --instance ID LOGIN [ROLE…] (replaces the user's roles)")
		}
		roles := fs.Args()[1:]
		u, err := svc.ChangeUser(ctx, *instance, fs.Arg(0), iamd.UserChange{UserUpdate: iamd.UserUpdate{Roles: &roles}})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "%s now holds: %s\n", u.LoginName, strings.Join(fs.Args()[1:], ", "))
		return nil
	}
	return fmt.Errorf("unknown role command %q (create, list, delete, grant)", args[0])
}
