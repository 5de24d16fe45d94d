// Package kit holds what the platform collectors and importers under
// archive/collect share so that they normalise alike: HTML to text, text
// repair (mis-encoded UTF-8), language tags, JSON pointers and page
// errors, raw pages, media downloads, and adding items to a sink.
//
// The same post must give the same normalised item whichever way it came
// in (a live collector, saved API responses, an account export), so every
// mapping of platform text goes through these functions and nothing else.
package kit
