package pdf

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // media images the PDF can show
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"github.com/osmarc/osmarc/export"
)

// The fonts are the Go fonts (BSD licence, from golang.org/x/image),
// embedded and subset: they cover Latin (French and other accented
// letters), Greek and Cyrillic.
var regularFont = func() *sfnt.Font {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic(err)
	}
	return f
}()

// printable rewrites text for the page: a character the font cannot show
// (and every invisible bidirectional control, such as a right-to-left
// override that would make text read otherwise than it is stored) is
// written as [U+XXXX], so a reader sees it is there; tabs become spaces
// and line breaks are kept.
func printable(s string) string {
	var b strings.Builder
	var buf sfnt.Buffer
	for _, r := range strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n") {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\r':
			b.WriteRune('\n')
		case r == '\t':
			b.WriteString("    ")
		case isBidiControl(r) || unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u00ad'):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			if gi, err := regularFont.GlyphIndex(&buf, r); err != nil || gi == 0 {
				fmt.Fprintf(&b, "[U+%04X]", r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || ('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// doc is one PDF being laid out.
type doc struct {
	f    *fpdf.Fpdf
	m    *export.Meta
	ctx  context.Context
	blob export.Blobs
	// heading is printed at the top of every page: the account and
	// thread (or selection) the document is of.
	heading string
	// cur is the item being laid out: a page break inside it repeats its
	// key, dates, digests and capture times at the top of the new page.
	cur   *export.Item
	pages int
	imgs  int
}

const (
	pageW   = 210.0
	margin  = 15.0
	textW   = pageW - 2*margin
	bodyPt  = 10.5
	smallPt = 8.0
)

func newDoc(ctx context.Context, m *export.Meta, title string) *doc {
	f := fpdf.New("P", "mm", "A4", "")
	f.AddUTF8FontFromBytes("go", "", goregular.TTF)
	f.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	f.AddUTF8FontFromBytes("gomono", "", gomono.TTF)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetCreationDate(m.ExportedAt)
	f.SetModificationDate(m.ExportedAt)
	f.SetCatalogSort(true)
	f.SetTitle(title, true)
	f.SetAuthor(m.Exporter, true)
	f.SetCreator("osmarc "+m.OsmarcVersion, true)
	f.SetProducer("osmarc "+m.OsmarcVersion, true)
	d := &doc{f: f, m: m, ctx: ctx, blob: m.Blobs}
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	return d
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func (d *doc) header() {
	f := d.f
	f.SetFont("go", "B", 9)
	f.SetTextColor(0, 0, 0)
	f.MultiCell(textW, 4.2, printable(d.heading), "", "L", false)
	if it := d.cur; it != nil {
		f.SetFont("go", "", smallPt)
		f.SetTextColor(80, 80, 80)
		f.MultiCell(textW, 3.6, printable(fmt.Sprintf("continued: %s · account %s/%s · created %s", it.Key, it.Platform, it.Account, stamp(it.CreatedAt))), "", "L", false)
		f.SetFont("gomono", "", 7)
		for _, line := range versionLines(it) {
			f.MultiCell(textW, 3.4, line, "", "L", false)
		}
		f.SetTextColor(0, 0, 0)
	}
	y := f.GetY() + 1
	f.SetDrawColor(150, 150, 150)
	f.Line(margin, y, pageW-margin, y)
	f.SetY(y + 2)
}

func (d *doc) footer() {
	f := d.f
	f.SetY(-13)
	f.SetFont("go", "", 7)
	f.SetTextColor(90, 90, 90)
	jh := d.m.JournalHead.Hash
	if len(jh) > 16 {
		jh = jh[:16] + "…"
	}
	f.CellFormat(textW, 3.5, printable(fmt.Sprintf("osmarc export %s by %s · journal head %d %s", stamp(d.m.ExportedAt), d.m.Exporter, d.m.JournalHead.Seq, jh)), "", 1, "L", false, 0, "")
	f.CellFormat(textW, 3.5, fmt.Sprintf("page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
	f.SetTextColor(0, 0, 0)
}

// versionLines are an item's versions: digest and capture time each. The
// archived digest of a redacted version is not shown.
func versionLines(it *export.Item) []string {
	var out []string
	for i, v := range it.Versions {
		dg := "sha256 " + v.Digest
		if v.Redacted {
			dg = "redacted copy (archived digest withheld)"
		}
		out = append(out, fmt.Sprintf("version %d/%d %s captured %s", i+1, len(it.Versions), dg, stamp(v.CapturedAt)))
	}
	return out
}

// item lays out one item: its identity, times, versions and capture
// times, redactions, its text (latest first, then earlier versions), and
// its media images.
func (d *doc) item(it *export.Item) error {
	f := d.f
	if f.PageNo() == 0 {
		f.AddPage()
	}
	// Keep the item's heading with its first lines.
	if _, h := f.GetPageSize(); f.GetY() > h-60 {
		f.AddPage()
	}
	f.SetFont("go", "B", 11)
	f.MultiCell(textW, 5.5, printable(fmt.Sprintf("%s %s", it.Kind, it.Key)), "", "L", false)
	d.cur = it
	f.SetFont("go", "", smallPt+0.5)
	meta := []string{fmt.Sprintf("account %s/%s", it.Platform, it.Account)}
	if it.Author != nil {
		a := it.Author.Name
		if it.Author.Handle != "" {
			a += " (@" + it.Author.Handle + ")"
		}
		meta = append(meta, "author "+a)
	}
	meta = append(meta, "created "+stamp(it.CreatedAt))
	if !it.EditedAt.IsZero() {
		meta = append(meta, "edited "+stamp(it.EditedAt))
	}
	f.MultiCell(textW, 4, printable(strings.Join(meta, " · ")), "", "L", false)
	line2 := []string{"captured " + stamp(it.FirstCaptured) + " to " + stamp(it.LastCaptured)}
	if it.ParentKey != "" {
		line2 = append(line2, "in reply to "+it.ParentKey)
	}
	if it.URL != "" {
		line2 = append(line2, it.URL)
	}
	f.MultiCell(textW, 4, printable(strings.Join(line2, " · ")), "", "L", false)
	var flags []string
	if it.RemovedAt != nil {
		flags = append(flags, "REMOVED AT SOURCE "+stamp(*it.RemovedAt))
	}
	if it.VersionCount > 1 {
		flags = append(flags, fmt.Sprintf("EDITED: %d versions archived", it.VersionCount))
	}
	for _, r := range it.Redactions {
		s := fmt.Sprintf("REDACTED %s: %s ×%d", r.Field, r.Kind, r.Count)
		if r.Exemption != "" {
			s += " (" + r.Exemption + ")"
		}
		flags = append(flags, s)
	}
	if len(flags) > 0 {
		f.SetTextColor(170, 0, 0)
		f.SetFont("go", "B", smallPt+0.5)
		f.MultiCell(textW, 4, printable(strings.Join(flags, " · ")), "", "L", false)
		f.SetTextColor(0, 0, 0)
	}
	f.SetFont("gomono", "", 7)
	for _, line := range versionLines(it) {
		f.MultiCell(textW, 3.4, line, "", "L", false)
	}
	f.Ln(1.5)
	f.SetFont("go", "", bodyPt)
	f.MultiCell(textW, 5, printable(it.Text), "", "L", false)
	for i := len(it.Versions) - 2; i >= 0; i-- {
		v := it.Versions[i]
		f.Ln(1)
		f.SetFont("go", "B", smallPt+0.5)
		f.MultiCell(textW, 4, fmt.Sprintf("Earlier version %d, captured %s:", i+1, stamp(v.CapturedAt)), "", "L", false)
		f.SetFont("go", "", bodyPt)
		f.MultiCell(textW, 5, printable(v.Content.Text), "", "L", false)
	}
	if d.m.Media {
		for _, md := range it.Media {
			if err := d.image(md); err != nil {
				return fmt.Errorf("item %s: media %s: %w", it.Key, md.Digest, err)
			}
		}
	}
	d.cur = nil
	f.Ln(2)
	y := f.GetY()
	f.SetDrawColor(200, 200, 200)
	f.Line(margin, y, pageW-margin, y)
	f.Ln(3)
	return f.Error()
}

// maxPixels bounds the images decoded (a decompression bomb is refused).
const maxPixels = 40 << 20

// image shows a media file that is a JPEG, PNG or GIF image; other media
// are named with their digest. An image is decoded and written again as
// an 8-bit PNG or a baseline JPEG, so any image Go reads goes into the
// PDF whatever its encoding (interlaced, 16-bit, paletted).
func (d *doc) image(md export.Media) error {
	f := d.f
	rc, err := d.blob.Open(d.ctx, md.Digest)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	note := func(s string) {
		f.SetFont("go", "", smallPt)
		f.MultiCell(textW, 4, printable(s), "", "L", false)
	}
	cfg, kind, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		note(fmt.Sprintf("media %s (sha256 %s): not an image this PDF shows", md.URL, md.Digest))
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		note(fmt.Sprintf("media %s (sha256 %s): image cannot be decoded: %v", md.URL, md.Digest, err))
		return nil
	}
	var enc bytes.Buffer
	typ := "PNG"
	if kind == "jpeg" {
		typ = "JPG"
		err = jpeg.Encode(&enc, img, &jpeg.Options{Quality: 92})
	} else {
		nrgba := image.NewNRGBA(img.Bounds())
		draw.Draw(nrgba, nrgba.Bounds(), img, img.Bounds().Min, draw.Src)
		err = png.Encode(&enc, nrgba)
	}
	if err != nil {
		return err
	}
	d.imgs++
	name := fmt.Sprintf("img%d", d.imgs)
	f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: typ}, &enc)
	if err := f.Error(); err != nil {
		return err
	}
	// At most 120 × 110 mm and 0.3 mm a pixel, keeping the aspect ratio;
	// tiny images are scaled up to 30 mm so they can be seen.
	w, h := float64(cfg.Width), float64(cfg.Height)
	scale := min(120/w, 110/h, 0.3)
	if w*scale < 30 && h*scale < 30 {
		scale = 30 / max(w, h)
	}
	w, h = w*scale, h*scale
	f.Ln(2)
	if _, ph := f.GetPageSize(); f.GetY()+h+8 > ph-18 {
		f.AddPage()
	}
	f.ImageOptions(name, margin, f.GetY(), w, h, true, fpdf.ImageOptions{ImageType: typ}, 0, "")
	caption := fmt.Sprintf("image %s · sha256 %s · captured %s", md.URL, md.Digest, stamp(md.CapturedAt))
	if md.Alt != "" {
		caption += " · alt: " + md.Alt
	}
	note(caption)
	return f.Error()
}

// write finishes the document into w and returns its page count.
func (d *doc) write(w io.Writer) (int, error) {
	if d.f.PageNo() == 0 {
		d.f.AddPage()
	}
	d.cur = nil
	n := d.f.PageCount()
	if err := d.f.Output(w); err != nil {
		return 0, err
	}
	return n, nil
}
