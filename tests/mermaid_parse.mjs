// Parse Mermaid diagrams with the mermaid npm package (under jsdom), as tests/test_mermaid.py
// asks: argv[2] is the node_modules folder scripts/setup.sh filled, argv[3] a JSON list of
// diagram texts; prints one JSON list of null (parsed) or the parser's message per diagram.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const require = createRequire(join(modules, "package.json"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const entry = require.resolve("mermaid/dist/mermaid.core.mjs");
const { default: mermaid } = await import(pathToFileURL(entry).href);
mermaid.initialize({ startOnLoad: false });
const out = [];
for (const text of JSON.parse(readFileSync(process.argv[3], "utf8"))) {
  try {
    await mermaid.parse(text);
    out.push(null);
  } catch (e) {
    out.push(String(e && e.message ? e.message : e));
  }
}
console.log(JSON.stringify(out));
