// Package x captures X (Twitter) accounts: a live collector for the X API
// v2 (New), an importer of saved API v2 responses, twarc2's JSON Lines
// included (NewAPIImporter, format "x-api-v2"), and an importer of the
// account archive X lets an owner download, as its .zip or unpacked folder
// (NewArchiveImporter, format "x-archive").
//
// All three read a tweet into the same facts and make its item the same
// way, so a tweet seen by the archive and by the live API is one item with
// one version when its content agrees:
//
//   - the item's id is the first id of the tweet's edit history, so every
//     version of an edited tweet is a version of one item, recorded oldest
//     first; a later version keeps the first version's created_at (read
//     from the first id, an X snowflake, when that version is not in
//     hand) and has its own time as edited_at;
//   - text is full_text (archive) or text (API), with X's escaping of &,
//     < and > undone in one pass; for a long post the API's note_tweet
//     text is taken (the archive's note-tweet.js is not read yet, so a
//     long post imported from an archive keeps its shortened text and is
//     a different version from the live one);
//   - links are the expanded URLs of the text's links (not the media
//     links); hashtags and mentions as the entities give them; media the
//     photo's URL or a video's best MP4 (else its preview image), with the
//     alt text;
//   - kind is "retweet" (text "RT @…"), "reply" (a reply's parent is the
//     tweet replied to), "quote" or "post";
//   - author is the account's or the replier's id and username (not the
//     display name, which changes without the tweet changing); a reply by
//     someone else carries its conversation id as thread (the archive
//     holds no conversation ids, so the account's own tweets do not);
//   - counts (likes, retweets, replies) are metrics, kept per sighting,
//     never part of a version.
//
// The archive's tweets.js is read element by element (YTDReader): memory
// does not grow with the archive, and one malformed element is one bad
// record, reported with the file, line and element index, not the end of
// the import. WriteSyntheticArchive writes a reproducible archive of any
// size for benchmarks.
package x
