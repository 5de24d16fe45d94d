// Package index is osmarc's search index: a bleve (scorch) index in the
// data directory, derived from the catalog and the store like the catalog
// is from the store, and rebuilt from them by Reindex.
//
// One document per item holds the latest version's text, the text of its
// earlier versions (so a phrase edited away is still found), its author,
// account, platform, kind, language, parent and thread, hashtags, mentions
// and links, creation and capture times, removal at source, and the
// records-management fields (classification, schedule, exemptions, holds)
// that an Annotator sets. Text is indexed three ways: plain words (lower
// case, diacritics folded, British and American spellings joined), pairs
// of adjacent plain words (for phrases), and the stems of the item's
// language (English, or French for "fr" and its regions), each stem with
// its weight in the text (one term per stem and document, so a stem's
// documents are the union of its weight tiers' terms).
//
// The index's format is its bleve mapping (fields, analysers, options),
// which bleve keeps in the index: an index built by a version of osmarc
// that indexed items another way is refused (ErrOldFormat) until osmarc
// reindex rebuilds it, never searched as if it held what it does not.
//
// What the package guarantees:
//
//   - Search finds exactly the items its query and filters describe, on
//     one point-in-time snapshot of the index: its total counts every hit,
//     its facets count the hits by value, its pages (offset, limit) in any
//     order are stable and together give every hit once.
//   - SearchAll visits every hit of one snapshot exactly once, in order of
//     creation, holding in memory only the hits of one hour of creation
//     time at a time, however many hits there are.
//   - A malformed query is a *QueryError (errors.Is(err, ErrQuery)) that
//     says in one line what is wrong and at which column.
//   - Update and IndexDocs return when their batch is durable; Reindex
//     replaces the index only when the new one is complete, so a failed
//     reindex leaves the old index as it was.
//   - The index is never the only copy of anything: losing it loses only
//     the time to run Reindex.
//
// Queries are evaluated by osmarc on the index's bitmaps (see eval.go),
// not by bleve's searchers; Mapping describes the documents to bleve, so
// bleve's own tools can read the index.
package index
