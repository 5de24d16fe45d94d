package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Limits of the archive reader.
const (
	// chunkElements and chunkBytes bound one raw blob of an archive's
	// tweets: the file is kept byte for byte in runs of whole elements,
	// each run stored as a JSON array ('[' + the file's bytes from the
	// first element to the last + ']'), so an item's raw JSON is at
	// "/<index in the run>/tweet". The same file always cuts the same way.
	chunkElements = 1000
	chunkBytes    = 1 << 20
	// smallFileLimit bounds account.js and manifest.js.
	smallFileLimit = 4 << 20
)

// ArchiveImporter imports an X/Twitter account archive ("x-archive"): the
// .zip X sends, or the folder it unpacks to. It reads data/tweets.js and
// its further parts (tweets-part1.js, …), the older data/tweet.js layout,
// data/deleted-tweets.js (items removed at source, at their deleted_at or
// else the archive's generation date), the media folders
// (data/tweets_media/<tweet id>-<name>), data/note-tweet.js (the whole
// text of long posts, joined to their cut-short tweets: see notes.go), and
// account.js and manifest.js for whose account it is. Each tweets file is
// streamed element by element, and notes and the versions of edited
// tweets (recorded oldest first at the end) wait in temporary files: memory
// does not grow with the archive.
type ArchiveImporter struct {
	// Now is the clock for a deleted tweet whose archive says neither
	// when it was deleted nor when the archive was made (default
	// time.Now).
	Now func() time.Time
}

// NewArchiveImporter returns the x-archive importer.
func NewArchiveImporter() *ArchiveImporter { return &ArchiveImporter{Now: time.Now} }

var _ collect.Importer = (*ArchiveImporter)(nil)

func (*ArchiveImporter) Format() string   { return "x-archive" }
func (*ArchiveImporter) Platform() string { return Platform }

// Sniff says whether src is an account archive, its data folder, or one
// of its tweets files.
func (*ArchiveImporter) Sniff(src collect.Source) bool {
	l, err := findLayout(src)
	return err == nil && len(l.parts) > 0
}

type part struct {
	name    string // path in the file system
	deleted bool
	kind    string // "tweets" or "tweet" or "deleted-tweets"
	n       int
}

type layout struct {
	dataDir string
	parts   []part
	notes   []string // note-tweet.js and its further parts
}

var (
	rePart = regexp.MustCompile(`^(tweets|tweet|deleted-tweets)(?:-part(\d+))?\.js$`)
	reNote = regexp.MustCompile(`^note-tweet(?:-part\d+)?\.js$`)
)

// findLayout finds the data folder and the tweets files of an archive.
func findLayout(src collect.Source) (*layout, error) {
	base := src.Path
	if base == "" {
		base = "."
	}
	fi, err := fs.Stat(src.FS, base)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		head := make([]byte, 256)
		f, err := src.FS.Open(base)
		if err != nil {
			return nil, err
		}
		n, _ := io.ReadFull(f, head)
		f.Close()
		if !sniffYTD(head[:n], "tweets", "tweet", "deleted_tweets") {
			return nil, fmt.Errorf("%s: not a tweets file of an X archive (it does not start with window.YTD.tweets.part…)", src.Name)
		}
		return &layout{dataDir: path.Dir(base), parts: []part{{name: base, deleted: strings.Contains(path.Base(base), "deleted"), kind: "tweets"}}}, nil
	}
	candidates := []string{path.Join(base, "data"), base}
	if entries, err := fs.ReadDir(src.FS, base); err == nil && len(entries) <= 3 {
		for _, e := range entries {
			if e.IsDir() && e.Name() != "data" {
				candidates = append(candidates, path.Join(base, e.Name(), "data"))
			}
		}
	}
	for _, dir := range candidates {
		entries, err := fs.ReadDir(src.FS, dir)
		if err != nil {
			continue
		}
		l := &layout{dataDir: dir}
		for _, e := range entries {
			if !e.IsDir() && reNote.MatchString(e.Name()) {
				l.notes = append(l.notes, path.Join(dir, e.Name()))
			}
			m := rePart.FindStringSubmatch(e.Name())
			if m == nil || e.IsDir() {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			l.parts = append(l.parts, part{name: path.Join(dir, e.Name()), deleted: m[1] == "deleted-tweets", kind: m[1], n: n})
		}
		if len(l.parts) == 0 {
			continue
		}
		order := map[string]int{"tweets": 0, "tweet": 1, "deleted-tweets": 2}
		slices.SortFunc(l.parts, func(a, b part) int {
			if d := order[a.kind] - order[b.kind]; d != 0 {
				return d
			}
			return a.n - b.n
		})
		return l, nil
	}
	return nil, fmt.Errorf("%s: no data/tweets.js or data/tweet.js: not an X account archive", src.Name)
}

// ArchiveOwner says whose archive src is: the username and account id
// its account.js (or manifest.js) gives, empty when it says neither. The
// import command can check it against the account it imports into.
func ArchiveOwner(src collect.Source) (handle, id string, err error) {
	l, err := findLayout(src)
	if err != nil {
		return "", "", err
	}
	info := readInfo(src.FS, l.dataDir, archive.Account{})
	return info.owner.handle, info.owner.id, nil
}

// archiveInfo is what account.js and manifest.js say of the archive.
type archiveInfo struct {
	owner     owner
	generated *time.Time
}

func readSmall(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, smallFileLimit+1))
	if err == nil && len(b) > smallFileLimit {
		err = fmt.Errorf("%s: larger than %d bytes", name, smallFileLimit)
	}
	return b, err
}

// readInfo reads account.js and manifest.js when they are there.
func readInfo(fsys fs.FS, dataDir string, acct archive.Account) archiveInfo {
	var info archiveInfo
	if b, err := readSmall(fsys, path.Join(dataDir, "account.js")); err == nil {
		y := NewYTDReader(bytes.NewReader(b))
		if el, err := y.Next(); err == nil {
			var a struct {
				Account struct {
					Username  string `json:"username"`
					AccountID string `json:"accountId"`
				} `json:"account"`
			}
			if json.Unmarshal(el.JSON, &a) == nil {
				info.owner = owner{id: a.Account.AccountID, handle: a.Account.Username}
			}
		}
	}
	if b, err := readSmall(fsys, path.Join(dataDir, "manifest.js")); err == nil {
		if i := bytes.IndexByte(b, '{'); i >= 0 {
			var m struct {
				UserInfo struct {
					AccountID string `json:"accountId"`
					UserName  string `json:"userName"`
				} `json:"userInfo"`
				ArchiveInfo struct {
					GenerationDate string `json:"generationDate"`
				} `json:"archiveInfo"`
			}
			if json.NewDecoder(bytes.NewReader(b[i:])).Decode(&m) == nil {
				if info.owner.id == "" {
					info.owner.id = m.UserInfo.AccountID
				}
				if info.owner.handle == "" {
					info.owner.handle = m.UserInfo.UserName
				}
				if t, err := parseTime(m.ArchiveInfo.GenerationDate); err == nil {
					info.generated = &t
				}
			}
		}
	}
	if info.owner.id == "" {
		info.owner.id = acct.ID
	}
	if info.owner.handle == "" {
		info.owner.handle = acct.Handle
	}
	return info
}

// Import streams the archive into sink. Bad elements are reported with
// the file, line and element index, and the rest is kept; only a failing
// sink (or ctx) ends the import with an error.
func (ai *ArchiveImporter) Import(ctx context.Context, src collect.Source, acct archive.Account, sink collect.Sink) error {
	l, err := findLayout(src)
	if err != nil {
		return err
	}
	info := readInfo(src.FS, l.dataDir, acct)
	now := ai.Now
	if now == nil {
		now = time.Now
	}
	im := &importer{sink: sink, account: acct, fsys: src.FS}
	defer im.close()
	im.notes, err = readNotes(ctx, sink, src, l.notes)
	if err != nil {
		return err
	}
	defer im.notes.close()
	for _, p := range l.parts {
		removed := (*time.Time)(nil)
		mediaDirs := []string{path.Join(l.dataDir, "tweets_media"), path.Join(l.dataDir, "tweet_media")}
		if p.deleted {
			t := now().UTC()
			if info.generated != nil {
				t = *info.generated
			}
			removed = &t
			mediaDirs = []string{path.Join(l.dataDir, "deleted_tweets_media"), path.Join(l.dataDir, "tweets_media")}
		}
		if err := ai.readPart(ctx, im, src, p, info.owner, removed, mediaDirs); err != nil {
			return err
		}
	}
	if err := im.flushHeld(ctx); err != nil {
		return err
	}
	return im.notes.unjoined(sink)
}

// archiveElem is an element of tweets.js: {"tweet": {…}} in newer
// archives, the bare tweet in older ones.
type archiveElem struct {
	Tweet *ArchiveTweet `json:"tweet"`
	ArchiveTweet
}

type pendingElem struct {
	f       *facts
	ptr     string
	line    int
	removed *time.Time
}

// readPart streams one tweets file.
func (ai *ArchiveImporter) readPart(ctx context.Context, im *importer, src collect.Source, p part, own owner, removed *time.Time, mediaDirs []string) error {
	source := kit.FileName(src, p.name)
	f, err := src.FS.Open(p.name)
	if err != nil {
		im.sink.Bad(&archive.InputError{Source: source, Err: err})
		return nil
	}
	defer f.Close()
	y := NewYTDReader(f)
	ch := rawChunker{sink: im.sink, source: source}
	var pend []pendingElem
	flush := func() error {
		d, err := ch.put(ctx)
		if err != nil || d == nil {
			return err
		}
		for _, pe := range pend {
			o := archive.ItemOptions{Raw: d, RawPath: pe.ptr, Source: source, Line: pe.line, RemovedAt: pe.removed}
			if err := im.add(ctx, pe.f, true, o, mediaDirs); err != nil {
				return err
			}
		}
		pend = pend[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		el, err := y.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			im.sink.Bad(structureError(source, err))
			break
		}
		var ae archiveElem
		if err := decodeElem(el.JSON, &ae); err != nil {
			// Not JSON: it cannot go into the chunk's array, so the
			// chunk ends before it.
			if ferr := flush(); ferr != nil {
				return ferr
			}
			im.sink.Bad(&archive.InputError{Source: source, Line: el.Line, Err: fmt.Errorf("element %d: %w", el.Index, describeJSON(err))})
			continue
		}
		ptr := "/" + strconv.Itoa(ch.n)
		ch.add(el)
		t := &ae.ArchiveTweet
		if ae.Tweet != nil {
			t, ptr = ae.Tweet, ptr+"/tweet"
		}
		fa, err := fromArchive(t, own)
		if err == nil {
			err = im.notes.join(fa)
		}
		if err != nil {
			im.sink.Bad(&archive.InputError{Source: source, Line: el.Line, Err: fmt.Errorf("element %d: %w", el.Index, err)})
		} else {
			rm := removed
			if removed != nil && t.DeletedAt != "" {
				if at, err := parseTime(t.DeletedAt); err == nil {
					rm = &at
				}
			}
			pend = append(pend, pendingElem{f: fa, ptr: ptr, line: el.Line, removed: rm})
		}
		if ch.full() {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// decodeElem decodes one element of an archive part with
// go-json-experiment's v1 package (encoding/json's semantics in about
// half the time: reading the archive is on the import's critical path);
// an element it refuses is decoded again by encoding/json, whose error
// describeJSON knows how to name.
func decodeElem(b []byte, ae *archiveElem) error {
	if jsonv1.Unmarshal(b, ae) == nil {
		return nil
	}
	*ae = archiveElem{}
	return json.Unmarshal(b, ae)
}
