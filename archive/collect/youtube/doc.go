// Package youtube captures YouTube channels: a live collector for the
// YouTube Data API v3 (New) and an importer of saved API responses
// (NewAPIImporter, format "youtube-api").
//
// Items: each upload is a "video" (text: the title, a blank line, the
// description; its best thumbnail as media; links and hashtags read from
// the text); each top-level comment a "comment" whose parent is the video;
// each reply a "reply" whose parent is the top-level comment. A comment's
// thread is its comment thread, whose id is the top-level comment's (a
// reply read from comments.list does not name its video). Text is
// textOriginal, else textDisplay (asked for as plain text). A comment
// whose updatedAt differs from its publishedAt carries it as edited_at; a
// video's edits show as new versions when its title, description or
// thumbnail change. View, like, comment and reply counts are metrics.
package youtube
