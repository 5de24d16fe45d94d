package collect

import (
	"slices"
	"strings"
)

// Registry is the list of collectors and importers a program offers,
// written out by the program (see cmd/osmarc/registry.go), never filled
// from init functions. Lookups are case-insensitive. A nil *Registry is
// empty.
type Registry struct {
	Collectors []Collector
	Importers  []Importer
}

// Collector returns the collector for a platform.
func (r *Registry) Collector(platform string) (Collector, bool) {
	if r == nil {
		return nil, false
	}
	for _, c := range r.Collectors {
		if strings.EqualFold(c.Platform(), platform) {
			return c, true
		}
	}
	return nil, false
}

// Importer returns the importer of a format.
func (r *Registry) Importer(format string) (Importer, bool) {
	if r == nil {
		return nil, false
	}
	for _, imp := range r.Importers {
		if strings.EqualFold(imp.Format(), format) {
			return imp, true
		}
	}
	return nil, false
}

// Platforms lists the platforms with a collector, sorted.
func (r *Registry) Platforms() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, c := range r.Collectors {
		out = append(out, c.Platform())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Formats lists the import formats, sorted.
func (r *Registry) Formats() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, imp := range r.Importers {
		out = append(out, imp.Format())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Sniff lists the formats src looks like, in registry order.
func (r *Registry) Sniff(src Source) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, imp := range r.Importers {
		if imp.Sniff(src) {
			out = append(out, imp.Format())
		}
	}
	return out
}
