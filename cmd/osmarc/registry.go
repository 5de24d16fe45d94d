package main

import "github.com/osmarc/osmarc/archive/collect"

// defaultRegistry is the list of collectors and importers osmarc offers,
// written out here rather than registered from init functions. The
// platform packages (archive/collect/<platform>) are added here: their
// collectors to Collectors, their importers to Importers.
func defaultRegistry() *collect.Registry {
	return &collect.Registry{}
}
