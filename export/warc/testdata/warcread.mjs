// warcread.mjs FILE: reads a WARC file with warcio (webrecorder's reader,
// not osmarc's code) and prints one JSON object per record: its offset,
// its header fields as read, the length and SHA-256 of the block it read,
// and the block itself (base64). The Go tests compare this with what
// they expect. Usage: node warcread.mjs FILE (NODE_PATH names the
// node_modules holding warcio).
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.WARCIO_MODULES || ".", "x.js"));
const { WARCParser } = require("warcio");

const parser = new WARCParser(createReadStream(process.argv[2]), { keepHeadersCase: true });
for await (const record of parser) {
  const headers = [];
  for (const [k, v] of record.warcHeaders.headers) headers.push([k, v]);
  const block = await record.readFully(false);
  const out = {
    offset: parser.offset,
    protocol: record.warcHeaders.protocol,
    type: record.warcType,
    headers,
    length: block.length,
    sha256: createHash("sha256").update(block).digest("hex"),
    block: Buffer.from(block).toString("base64"),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}
