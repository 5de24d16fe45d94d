package loadfile

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/osmarc/osmarc/export"
)

// The HTML native: the item's identity, times and records data, its
// latest text and each earlier version exported. Text is escaped and
// isolated (dir=auto, bdi), so markup or a right-to-left override in
// archived content shows as text and cannot reorder what follows; the
// page allows no script and loads nothing.
var page = template.Must(template.New("item").Funcs(template.FuncMap{
	"hidden": func(s string) string { return showHidden(s) },
	"date":   func(t time.Time) string { return date(t) },
	"datep": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return date(*t)
	},
}).Parse(`<!DOCTYPE html>
<html lang="{{if .It.Lang}}{{.It.Lang}}{{else}}und{{end}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Doc}} {{.It.Key}}</title>
<style>
body{font-family:sans-serif;max-width:50em;margin:1em auto;padding:0 1em}
table{border-collapse:collapse}td,th{text-align:left;vertical-align:top;padding:2px 8px;border-bottom:1px solid #ddd}
.text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate;border:1px solid #ccc;padding:.5em}
.flag{font-weight:bold;color:#a00}
</style>
</head>
<body>
<h1>{{.Doc}}</h1>
{{if .It.RemovedAt}}<p class="flag">Removed at source: {{datep .It.RemovedAt}}</p>{{end}}
{{if .It.Redactions}}<p class="flag">Redacted: {{range .It.Redactions}}{{.Field}} ({{.Kind}} ×{{.Count}}{{if .Exemption}}, {{.Exemption}}{{end}}) {{end}}</p>{{end}}
<table>
<tr><th>Key</th><td><bdi>{{.It.Key}}</bdi></td></tr>
<tr><th>Platform / account</th><td><bdi>{{.It.Platform}}</bdi> / <bdi>{{.It.Account}}</bdi></td></tr>
<tr><th>Kind</th><td>{{.It.Kind}}</td></tr>
{{with .It.Author}}<tr><th>Author</th><td><bdi>{{.Name}}</bdi>{{if .Handle}} (@<bdi>{{.Handle}}</bdi>){{end}}</td></tr>{{end}}
<tr><th>Created</th><td>{{date .It.CreatedAt}}</td></tr>
{{if not .It.EditedAt.IsZero}}<tr><th>Edited</th><td>{{date .It.EditedAt}}</td></tr>{{end}}
<tr><th>Captured</th><td>{{date .It.FirstCaptured}} – {{date .It.LastCaptured}}</td></tr>
{{if .It.ParentKey}}<tr><th>In reply to</th><td><bdi>{{.It.ParentKey}}</bdi></td></tr>{{end}}
<tr><th>Thread</th><td><bdi>{{.It.ThreadKey}}</bdi></td></tr>
{{if .It.URL}}<tr><th>URL</th><td><bdi>{{.It.URL}}</bdi></td></tr>{{end}}
{{if .It.Classification}}<tr><th>Classification</th><td>{{.It.Classification}}</td></tr>{{end}}
{{if .It.Schedule}}<tr><th>Schedule</th><td>{{.It.Schedule}}</td></tr>{{end}}
{{if .It.Holds}}<tr><th>Holds</th><td>{{range .It.Holds}}{{.}} {{end}}</td></tr>{{end}}
<tr><th>Versions</th><td>{{len .It.Versions}} exported of {{.It.VersionCount}}</td></tr>
</table>
{{range $i, $v := .Versions}}
<h2>{{if eq $i 0}}Latest version{{else}}Earlier version{{end}}, captured {{date $v.CapturedAt}}</h2>
{{if and $v.Digest (not $v.Redacted)}}<p>SHA-256 <code>{{$v.Digest}}</code></p>{{end}}
<div class="text" dir="auto">{{$v.Content.Text}}</div>
{{with hidden $v.Content.Text}}<p class="flag">The text holds invisible characters (direction controls, zero-width characters) that change how it shows; with them made visible:</p>
<div class="text" dir="ltr">{{.}}</div>{{end}}
{{end}}
{{if .It.Media}}<h2>Media</h2><ul>{{range .It.Media}}<li><bdi>{{.URL}}</bdi> {{.Type}} <code>{{.Digest}}</code>{{if .Alt}} — <bdi>{{.Alt}}</bdi>{{end}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))

func renderHTML(w io.Writer, it *export.Item, doc string, redacted bool) error {
	vs := make([]export.Version, 0, len(it.Versions))
	for i := len(it.Versions) - 1; i >= 0; i-- {
		vs = append(vs, it.Versions[i])
	}
	return page.Execute(w, struct {
		It       *export.Item
		Doc      string
		Versions []export.Version
		Redacted bool
	}{it, doc, vs, redacted})
}

// showHidden returns s with its invisible format characters (bidi
// controls such as a right-to-left override, zero-width characters)
// written as [U+XXXX], or "" when it has none.
func showHidden(s string) string {
	if !strings.ContainsFunc(s, isHidden) {
		return ""
	}
	var b strings.Builder
	for _, r := range s {
		if isHidden(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isHidden(r rune) bool { return unicode.Is(unicode.Cf, r) && r != '\u00ad' }
