# osmarc — see README.md.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/osmarc/osmarc/archive.Version=$(VERSION)
GO       ?= go
TOOLS    := $(CURDIR)/.bin
# The S3-compatible server the tests and the benchmark start on 127.0.0.1.
VERSITYGW_VERSION := v1.8.0
DATA     ?= $(CURDIR)/osmarc-data

export OSMARC_VERSITYGW ?= $(TOOLS)/versitygw

.PHONY: build test bench bench-search lint demo tools chromium clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/osmarc ./cmd/osmarc

tools: $(TOOLS)/versitygw chromium $(TOOLS)/node_modules/warcio/package.json

# The web pages' end-to-end tests drive Debian's Chromium (headless). It is
# installed from Debian's packages when missing; with CI=true the tests fail
# without it, never skip.
CHROMIUM ?= /usr/bin/chromium
export OSMARC_CHROMIUM ?= $(CHROMIUM)
chromium:
	@test -x $(CHROMIUM) || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The WARC export's tests read what they wrote back with warcio, webrecorder's
# WARC reader, from npm (node and npm from Debian's packages when missing);
# with CI=true the tests fail without it, never skip.
WARCIO_VERSION := 2.4.11
$(TOOLS)/node_modules/warcio/package.json:
	@command -v npm >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	npm install --no-audit --no-fund --prefix $(TOOLS) warcio@$(WARCIO_VERSION)

$(TOOLS)/versitygw:
	GOBIN=$(TOOLS) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

bench: tools
	$(GO) run ./cmd/osmarc-bench

# bench runs every benchmark, the search benchmark last; bench-search runs
# only that one: it indexes 1M items with bleve alone, through osmarc and in
# SQLite FTS5, and times the open-records queries (about half an hour).
bench-search:
	$(GO) run ./cmd/osmarc-bench -search

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# demo creates an archive on the local disk store (unless one is there),
# ingests the sample items, and shows what osmarc knows of them.
demo: build
	@test -f $(DATA)/osmarc.json || bin/osmarc init --data $(DATA)
	bin/osmarc ingest --data $(DATA) testdata/items.jsonl testdata/items-edited.jsonl
	bin/osmarc list --data $(DATA)
	bin/osmarc show --data $(DATA) facebook/3rd-brigade/101_2001
	bin/osmarc stats --data $(DATA)
	bin/osmarc verify --deep --data $(DATA)

clean:
	rm -rf bin
