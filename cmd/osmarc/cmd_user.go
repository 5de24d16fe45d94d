package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/cmd/osmarc/web"
)

// withUsers opens the archive as its writer (user changes are journal
// events) and runs fn on the user registry read from it.
func withUsers(ctx context.Context, g *globalOptions, command string, readOnly bool, fn func(*archive.Archive, *web.Users) error) error {
	a, err := g.open(ctx, command, readOnly)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := web.LoadUsers(a, 0)
	if err != nil {
		return err
	}
	return fn(a, u)
}

// passwordSource says where a new password comes from. Never a flag's
// value: that would stay in the shell's history and the process list.
type passwordSource struct {
	file string // a file whose first line is the password; "-" is stdin
	env  string // the name of an environment variable holding it
}

func (p *passwordSource) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.file, "password-file", "", `read the password from the first line of this file ("-": standard input)`)
	cmd.Flags().StringVar(&p.env, "password-env", "", "read the password from this environment variable (its name, not the password)")
}

// read returns the password: from --password-file or --password-env, else
// asked twice on the terminal without echo, else the first line of
// standard input.
func (p *passwordSource) read(g *globalOptions, command, user string) (string, error) {
	switch {
	case p.file != "" && p.env != "":
		return "", fmt.Errorf("%s: give --password-file or --password-env, not both", command)
	case p.env != "":
		v, ok := os.LookupEnv(p.env)
		if !ok || v == "" {
			return "", fmt.Errorf("%s: --password-env %s: the variable is not set", command, p.env)
		}
		return v, nil
	case p.file == "-":
		return firstLine(g.stdin, command, "standard input")
	case p.file != "":
		f, err := os.Open(p.file)
		if err != nil {
			return "", fmt.Errorf("%s: --password-file: %w", command, err)
		}
		defer f.Close()
		return firstLine(f, command, p.file)
	}
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(g.stderr, "New password for %s: ", user)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("%s: read the password: %w", command, err)
		}
		fmt.Fprintf(g.stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("%s: read the password: %w", command, err)
		}
		if string(a) != string(b) {
			return "", fmt.Errorf("%s: the two passwords differ; nothing was changed", command)
		}
		return string(a), nil
	}
	return firstLine(g.stdin, command, "standard input")
}

func firstLine(r io.Reader, command, name string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: read the password from %s: %w", command, name, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("%s: no password on the first line of %s", command, name)
	}
	return line, nil
}

func newUserCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "People who sign in to the web application",
		Long: `Users sign in to osmarc serve (and the daemon's web application) with a name
and password. Each has one role — viewer, records-officer, legal or admin —
that decides what they may do (see the README). Users, roles, disabled users
and password changes are journal events holding only a bcrypt hash of the
password, so they survive osmarc rebuild and are part of the audit trail.

Passwords are read from the terminal (asked twice, not echoed), from
--password-file, from the variable --password-env names, or from the first
line of standard input; never from a flag's value.`,
	}
	var role string
	var pw passwordSource
	add := &cobra.Command{
		Use:   "add NAME --role viewer|records-officer|legal|admin",
		Short: "Add a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := web.ParseRole(role)
			if err != nil {
				return fmt.Errorf("user add: --role: %w", err)
			}
			if err := web.CheckUserName(args[0]); err != nil {
				return fmt.Errorf("user add: %w", err)
			}
			return withUsers(cmd.Context(), g, "user add", false, func(a *archive.Archive, u *web.Users) error {
				if _, err := u.User(args[0]); err == nil {
					return fmt.Errorf("user add: %w: %q (osmarc user passwd to change a password)", web.ErrUserExists, args[0])
				}
				p, err := pw.read(g, "user add", args[0])
				if err != nil {
					return err
				}
				usr, err := u.Add(cmd.Context(), a, args[0], r, p)
				if err != nil {
					return fmt.Errorf("user add: %w", err)
				}
				fmt.Fprintf(g.stdout, "Added user %s (%s).\n", usr.Name, usr.Role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, records-officer, legal or admin (required)")
	pw.register(add)

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "user list", true, func(a *archive.Archive, u *web.Users) error {
				us := u.List()
				if asJSON {
					if us == nil {
						us = []web.User{}
					}
					return printJSON(g, us)
				}
				if len(us) == 0 {
					fmt.Fprintln(g.stdout, "No users: add one with osmarc user add NAME --role admin.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED\tBY\tPASSWORD SET")
				for _, x := range us {
					status := "active"
					if x.Disabled {
						status = "disabled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Name, x.Role, status, x.CreatedAt.Format(time.RFC3339), x.CreatedBy, x.PasswordChangedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var reason string
	disable := &cobra.Command{
		Use:   "disable NAME [--reason R]",
		Short: "Stop a user signing in (their tokens stop working too)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "user disable", false, func(a *archive.Archive, u *web.Users) error {
				usr, err := u.Disable(cmd.Context(), a, args[0], reason)
				if err != nil {
					return fmt.Errorf("user disable: %w", err)
				}
				fmt.Fprintf(g.stdout, "Disabled user %s.\n", usr.Name)
				return nil
			})
		},
	}
	disable.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	enable := &cobra.Command{
		Use:   "enable NAME [--reason R]",
		Short: "Let a disabled user sign in again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "user enable", false, func(a *archive.Archive, u *web.Users) error {
				usr, err := u.Enable(cmd.Context(), a, args[0], reason)
				if err != nil {
					return fmt.Errorf("user enable: %w", err)
				}
				fmt.Fprintf(g.stdout, "Enabled user %s.\n", usr.Name)
				return nil
			})
		},
	}
	enable.Flags().StringVar(&reason, "reason", "", "why (recorded)")

	var pw2 passwordSource
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "user passwd", false, func(a *archive.Archive, u *web.Users) error {
				if _, err := u.User(args[0]); err != nil {
					return fmt.Errorf("user passwd: %w", err)
				}
				p, err := pw2.read(g, "user passwd", args[0])
				if err != nil {
					return err
				}
				if _, err := u.SetPassword(cmd.Context(), a, args[0], p); err != nil {
					return fmt.Errorf("user passwd: %w", err)
				}
				fmt.Fprintf(g.stdout, "Changed the password of %s.\n", args[0])
				return nil
			})
		},
	}
	pw2.register(passwd)

	var newRole string
	roleCmd := &cobra.Command{
		Use:   "role NAME --role R [--reason R]",
		Short: "Change a user's role",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := web.ParseRole(newRole)
			if err != nil {
				return fmt.Errorf("user role: --role: %w", err)
			}
			return withUsers(cmd.Context(), g, "user role", false, func(a *archive.Archive, u *web.Users) error {
				usr, err := u.SetRole(cmd.Context(), a, args[0], r, reason)
				if err != nil {
					return fmt.Errorf("user role: %w", err)
				}
				fmt.Fprintf(g.stdout, "%s is now %s.\n", usr.Name, usr.Role)
				return nil
			})
		},
	}
	roleCmd.Flags().StringVar(&newRole, "role", "", "viewer, records-officer, legal or admin (required)")
	roleCmd.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	cmd.AddCommand(add, list, disable, enable, passwd, roleCmd)
	return cmd
}
