#!/usr/bin/env python3
"""An RFC 8493 (BagIt 1.0) validator independent of osmarc's Go code,
written from the RFC with Python's standard library only, so the tests
check osmarc's bags with a second implementation.

Usage: validate_bag.py BAG
Prints one line per problem and exits 1 when there is any, else prints
"valid: N files, M bytes" and exits 0.
"""
import hashlib
import os
import re
import sys

ALGS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def unescape(p):
    return p.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def digest(path, alg):
    h = ALGS[alg]()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(bag, name, problems):
    entries = {}
    with open(os.path.join(bag, name), "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{name}: not UTF-8")
        return entries
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line:
            continue
        m = re.match(r"^([0-9a-fA-F]+)[ \t]+(.+)$", line)
        if not m:
            problems.append(f"{name}: line {n} malformed")
            continue
        p = unescape(m.group(2))
        if p.startswith("/") or ".." in p.split("/"):
            problems.append(f"{name}: line {n} path escapes the bag")
            continue
        entries[p] = m.group(1).lower()
    return entries


def main(bag):
    problems = []
    decl = os.path.join(bag, "bagit.txt")
    if not os.path.isfile(decl):
        print("bagit.txt missing")
        return 1
    with open(decl, "rb") as f:
        d = f.read()
    if d.startswith(b"\xef\xbb\xbf"):
        problems.append("bagit.txt has a BOM")
    lines = d.decode("utf-8").splitlines()
    if len(lines) != 2 or not re.match(r"^BagIt-Version: \d+\.\d+$", lines[0]) or not lines[1].startswith("Tag-File-Character-Encoding: "):
        problems.append(f"bagit.txt malformed: {lines!r}")
    if not os.path.isdir(os.path.join(bag, "data")):
        problems.append("data/ missing")
    names = sorted(os.listdir(bag))
    payload_manifests = [n for n in names if re.match(r"^manifest-[a-z0-9]+\.txt$", n)]
    tag_manifests = [n for n in names if re.match(r"^tagmanifest-[a-z0-9]+\.txt$", n)]
    if not payload_manifests:
        problems.append("no payload manifest")
    payload_files = set()
    total = 0
    for root, dirs, files in os.walk(os.path.join(bag, "data")):
        for fn in files:
            full = os.path.join(root, fn)
            rel = os.path.relpath(full, bag).replace(os.sep, "/")
            payload_files.add(rel)
            total += os.path.getsize(full)
    for m in payload_manifests:
        alg = m[len("manifest-"):-4]
        if alg not in ALGS:
            problems.append(f"{m}: unknown algorithm")
            continue
        entries = read_manifest(bag, m, problems)
        for p, want in entries.items():
            if not p.startswith("data/"):
                problems.append(f"{m}: {p} is not payload")
                continue
            full = os.path.join(bag, *p.split("/"))
            if not os.path.isfile(full):
                problems.append(f"{m}: {p} missing")
            elif digest(full, alg) != want:
                problems.append(f"{m}: {p} digest mismatch")
        for p in sorted(payload_files - set(entries)):
            problems.append(f"{m}: {p} not listed")
    for m in tag_manifests:
        alg = m[len("tagmanifest-"):-4]
        if alg not in ALGS:
            problems.append(f"{m}: unknown algorithm")
            continue
        for p, want in read_manifest(bag, m, problems).items():
            full = os.path.join(bag, *p.split("/"))
            if not os.path.isfile(full):
                problems.append(f"{m}: {p} missing")
            elif digest(full, alg) != want:
                problems.append(f"{m}: {p} digest mismatch")
    info = os.path.join(bag, "bag-info.txt")
    if os.path.isfile(info):
        with open(info, encoding="utf-8") as f:
            for line in f.read().splitlines():
                if line.startswith("Payload-Oxum:"):
                    octets, _, count = line.split(":", 1)[1].strip().partition(".")
                    if int(octets) != total or int(count) != len(payload_files):
                        problems.append(f"Payload-Oxum {octets}.{count} but payload is {total}.{len(payload_files)}")
                elif line and not line[0].isspace() and ":" not in line:
                    problems.append(f"bag-info.txt malformed line {line!r}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"valid: {len(payload_files)} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
