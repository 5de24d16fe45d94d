package web

import (
	"html/template"
	"maps"
	"testing"

	"github.com/osmarc/osmarc/index"
)

// pageRouteCases are the pages' entries of routeCases (routes_test.go):
// how the every-role test calls each page route.
var pageRouteCases = map[string]routeCase{
	"GET /{$}":                             {"/", nil},
	"GET /signin":                          {"/signin", nil},
	"POST /signin":                         {"/signin", nil},
	"POST /signout":                        {"/signout", nil},
	"GET /static/{file...}":                {"/static/osmarc.css", nil},
	"GET /search":                          {"/search?q=parade", nil},
	"POST /search/select":                  {"/search/select", nil},
	"GET /items/{key...}":                  {itemURL(apiPIIKey), nil},
	"GET /media/{digest}":                  {"/media/" + zeros + "?item=" + apiPIIKey, nil},
	"GET /requests":                        {"/requests", nil},
	"POST /requests":                       {"/requests", nil},
	"GET /requests/{id}":                   {"/requests/none", nil},
	"POST /requests/{id}/searches":         {"/requests/none/searches", nil},
	"POST /requests/{id}/items":            {"/requests/none/items", nil},
	"POST /requests/{id}/redactions":       {"/requests/none/redactions", nil},
	"POST /requests/{id}/produce":          {"/requests/none/produce", nil},
	"GET /requests/{id}/productions/{n}":   {"/requests/none/productions/1", nil},
	"GET /holds":                           {"/holds", nil},
	"POST /holds":                          {"/holds", nil},
	"POST /holds/{name}/release":           {"/holds/none/release", nil},
	"GET /retention":                       {"/retention", nil},
	"POST /retention/plans":                {"/retention/plans", nil},
	"POST /retention/plans/{id}/approve":   {"/retention/plans/none/approve", nil},
	"POST /retention/plans/{id}/execute":   {"/retention/plans/none/execute", nil},
	"GET /retention/certificates/{digest}": {"/retention/certificates/" + zeros, nil},
	"GET /accounts":                        {"/accounts", nil},
	"GET /accounts/{key...}":               {"/accounts/facebook/3rd-brigade", nil},
	"GET /audit":                           {"/audit", nil},
	"POST /classify/{key...}":              {"/classify/facebook/3rd-brigade/none", nil},
	"POST /classify-undo/{key...}":         {"/classify-undo/facebook/3rd-brigade/none", nil},
	"POST /retention/rules":                {"/retention/rules", nil},
	"POST /retention/rules/{id}/move":      {"/retention/rules/none/move", nil},
	"POST /retention/rules/{id}/remove":    {"/retention/rules/none/remove", nil},
	"POST /retention/schedules":            {"/retention/schedules", nil},
	"GET /retention/schedules/{id}":        {"/retention/schedules/none", nil},
	"POST /requests/{id}/close":            {"/requests/none/close", nil},
	"POST /accounts":                       {"/accounts", nil},
	"POST /accounts/{key...}":              {"/accounts/facebook/none", nil},
	"GET /admin/users":                     {"/admin/users", nil},
	"POST /admin/users":                    {"/admin/users", nil},
	"POST /admin/users/{name}":             {"/admin/users/nobody", nil},
	"POST /admin/tokens":                   {"/admin/tokens", nil},
	"POST /admin/tokens/{id}/revoke":       {"/admin/tokens/none/revoke", nil},
}

func init() { maps.Copy(routeCases, pageRouteCases) }

func sp(a, b int) index.Span { return index.Span{Start: a, End: b} }

func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		text  string
		marks []index.Span
		want  template.HTML
	}{
		{"road closure today", []index.Span{sp(0, 4), sp(5, 12)}, "<mark>road</mark> <mark>closure</mark> today"},
		{`<b>road</b> & "x"`, []index.Span{sp(3, 7)}, `&lt;b&gt;<mark>road</mark>&lt;/b&gt; &amp; &#34;x&#34;`},
		// Marks out of order, overlapping or out of range are ignored.
		{"abc", []index.Span{sp(1, 2), sp(0, 3), sp(2, 9), sp(2, 2)}, "a<mark>b</mark>c"},
	} {
		if got := highlight(tc.text, tc.marks); got != tc.want {
			t.Errorf("highlight(%q, %v) = %q, want %q", tc.text, tc.marks, got, tc.want)
		}
	}
}

func TestMediaType(t *testing.T) {
	for _, tc := range []struct{ declared, sniffed, want string }{
		{"image/png", "image/png", "image/png"},
		{"image/jpeg", "image/png", "image/jpeg"}, // same family: the declared subtype
		{"image/png", "text/html; charset=utf-8", "application/octet-stream"},
		{"text/html", "text/plain; charset=utf-8", "application/octet-stream"},
		{"image/svg+xml", "text/xml; charset=utf-8", "application/octet-stream"},
		{"", "video/mp4", "video/mp4"},
		{"video/mp4", "application/octet-stream", "application/octet-stream"},
		{"text/plain", "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
	} {
		if got := mediaType(tc.declared, tc.sniffed); got != tc.want {
			t.Errorf("mediaType(%q, %q) = %q, want %q", tc.declared, tc.sniffed, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/items/a/b?x=1": "/items/a/b?x=1", "": "/search", "https://evil.example/": "/search",
		"//evil.example/": "/search", `/\evil.example`: "/search", "javascript:alert(1)": "/search",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
