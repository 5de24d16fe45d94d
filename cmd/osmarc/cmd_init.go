package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

type initOptions struct {
	store string
	json  bool
}

func newInitCommand(g *globalOptions) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create an archive, or attach to the one a store already holds",
		Long: `init creates an archive in the data directory. The store defaults to a
directory inside it; --store puts it elsewhere:

  --store file:///srv/osmarc/store
  --store 's3://records-bucket/osmarc?endpoint=https://s3.example.gov&region=us-east-1'

S3 credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, shared config and credentials files, AWS_PROFILE or
?profile=NAME). When the store already holds an archive, init attaches this
data directory to it and rebuilds its catalog from the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.store, "store", "", "store URL (default: a directory inside the data directory)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runInit(ctx context.Context, g *globalOptions, o initOptions) error {
	a, res, err := archive.Init(ctx, g.options("init", false), o.store)
	if err != nil {
		return err
	}
	defer a.Close()
	if o.json {
		return json.NewEncoder(g.stdout).Encode(res)
	}
	if res.Attached {
		fmt.Fprintf(g.stdout, "Attached %s to the existing archive %s on %s (%d events, %d captures).\n",
			g.dataDir, res.ArchiveID, res.Store, res.Events, res.Captures)
		return nil
	}
	fmt.Fprintf(g.stdout, "Created archive %s in %s on %s.\n", res.ArchiveID, g.dataDir, res.Store)
	return nil
}
