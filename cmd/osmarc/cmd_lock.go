package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

func newLockCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Object Lock: the store's own retention and legal holds",
		Long: `On an S3 bucket created with Object Lock, the store itself keeps records
for as long as their schedule says and while a hold applies, so that nobody
can destroy them early, osmarc included. The store URL's lock_mode= says
which mode (governance or compliance; default: the bucket's default rule,
else governance). Placing a hold sets the legal-hold flag on its items'
blobs and releasing it removes the flag; "lock apply" gives every record's
blobs a retain-until date no earlier than its disposition date. Run it after
capture (from cron or the daemon) and before disposition: a disposition
refuses to destroy a blob the store still retains.`,
	}
	var asJSON bool
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Extend retention of every record's blobs to its disposition date; flag held items' blobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "lock apply", false, func(a *archive.Archive, r *retention.Records) error {
				res, err := r.ApplyObjectLock(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, res)
				}
				fmt.Fprintf(g.stdout, "Object Lock (%s): %d of %d blob(s) are locked by a date or a hold; %d retention(s) extended, %d legal hold(s) set.\n",
					strings.ToLower(string(res.Mode)), res.Locked, res.Blobs, res.Extended, res.HoldsSet)
				if res.Missing > 0 {
					fmt.Fprintf(g.stdout, "%d blob(s) the catalog names are not in the store (run osmarc verify).\n", res.Missing)
				}
				return nil
			})
		},
	}
	apply.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var showJSON bool
	show := &cobra.Command{
		Use:   "show [ITEM]",
		Short: "Show the store's Object Lock, or the lock on each blob of an item",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), "lock show", true)
			if err != nil {
				return err
			}
			defer a.Close()
			return runLockShow(cmd.Context(), g, a, args, showJSON)
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	cmd.AddCommand(apply, show)
	return cmd
}

// blobLock is the lock on one blob of an item.
type blobLock struct {
	Role   string `json:"role"`
	Digest string `json:"digest"`
	archive.ObjectLock
}

func runLockShow(ctx context.Context, g *globalOptions, a *archive.Archive, args []string, asJSON bool) error {
	l, cfg, err := archive.LockerOf(ctx, a.Store())
	if err != nil {
		return err
	}
	if len(args) == 0 {
		if asJSON {
			return printJSON(g, cfg)
		}
		if l == nil {
			fmt.Fprintf(g.stdout, "Store %s has no Object Lock.\n", a.Store().Location())
			return nil
		}
		fmt.Fprintf(g.stdout, "Store %s has Object Lock, mode %s.\n", a.Store().Location(), strings.ToLower(string(cfg.Mode)))
		return nil
	}
	if l == nil {
		return fmt.Errorf("lock show: store %s: %w", a.Store().Location(), archive.ErrNoObjectLock)
	}
	it, err := a.Catalog().Item(args[0])
	if err != nil {
		return fmt.Errorf("lock show %s: %w", args[0], archive.ErrNotFound)
	}
	var blobs []blobLock
	seen := map[string]bool{}
	add := func(role, digest string) {
		if digest != "" && !seen[digest] {
			seen[digest] = true
			blobs = append(blobs, blobLock{Role: role, Digest: digest})
		}
	}
	for _, v := range it.Versions {
		add("version", v.Digest)
	}
	ss, err := a.Catalog().Sightings(it.Key)
	if err != nil {
		return err
	}
	for _, s := range ss {
		add("raw", s.Raw)
		for _, m := range s.Media {
			add("media", m)
		}
	}
	for i := range blobs {
		d, err := archive.ParseDigest(blobs[i].Digest)
		if err != nil {
			return err
		}
		st, err := l.LockState(ctx, archive.BlobKey(d))
		if err != nil && !errors.Is(err, archive.ErrNotFound) {
			return err
		}
		blobs[i].ObjectLock = st
	}
	if asJSON {
		return printJSON(g, blobs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tBLOB\tLOCK")
	for _, b := range blobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Role, b.Digest, b.ObjectLock)
	}
	return tw.Flush()
}
