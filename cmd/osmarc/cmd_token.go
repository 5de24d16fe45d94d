package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/cmd/osmarc/web"
)

func newTokenCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "API tokens for scripts",
		Long: `A token lets a script use the JSON API (/api/v1/) as a user, with that
user's role: send it as "Authorization: Bearer TOKEN". The token is printed
once, when it is created; osmarc keeps only its SHA-256. A revoked token, or
one whose user is disabled, stops working at once. Creating and revoking
tokens are journal events.`,
	}
	var user, note string
	create := &cobra.Command{
		Use:   "create --user U [--note TEXT]",
		Short: "Create a token for a user (printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return fmt.Errorf("token create: --user is required")
			}
			return withUsers(cmd.Context(), g, "token create", false, func(a *archive.Archive, u *web.Users) error {
				t, secret, err := u.CreateToken(cmd.Context(), a, user, note)
				if err != nil {
					return fmt.Errorf("token create: %w", err)
				}
				fmt.Fprintf(g.stderr, "Token %s for %s; it is shown only now:\n", t.ID, t.User)
				fmt.Fprintln(g.stdout, secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&user, "user", "", "the user the token acts as (required)")
	create.Flags().StringVar(&note, "note", "", "what the token is for")

	var asJSON bool
	var listUser string
	list := &cobra.Command{
		Use:   "list [--user U]",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "token list", true, func(a *archive.Archive, u *web.Users) error {
				ts := u.Tokens(listUser)
				if asJSON {
					if ts == nil {
						ts = []web.Token{}
					}
					return printJSON(g, ts)
				}
				if len(ts) == 0 {
					fmt.Fprintln(g.stdout, "No tokens.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tCREATED\tBY\tSTATUS\tNOTE")
				for _, t := range ts {
					status := "active"
					if t.RevokedAt != nil {
						status = "revoked " + t.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.CreatedAt.Format(time.RFC3339), t.CreatedBy, status, t.Note)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().StringVar(&listUser, "user", "", "only this user's tokens")

	var reason string
	revoke := &cobra.Command{
		Use:   "revoke ID [--reason R]",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), g, "token revoke", false, func(a *archive.Archive, u *web.Users) error {
				t, err := u.RevokeToken(cmd.Context(), a, args[0], reason)
				if err != nil {
					return fmt.Errorf("token revoke: %w", err)
				}
				fmt.Fprintf(g.stdout, "Revoked token %s of %s.\n", t.ID, t.User)
				return nil
			})
		},
	}
	revoke.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	cmd.AddCommand(create, list, revoke)
	return cmd
}
