// Golden relative positions from the stock `yjs` package, for the page's awareness carets
// (client/tests/relpos_golden.rs runs it and compares the page's JSON with what it prints).
//
//   node relpos-golden.mjs < spec.json
//
// The spec (JSON on stdin):
//   {"client": <Y.Doc clientID>, "cases": [{"name": …,
//     "ops": [{"insert": [<index>, <string>]} | {"delete": [<index>, <length>]}, …],
//     "cursors": [{"anchor": <index>, "head": <index>, "page": <cursor>, "legacy": <cursor>}, …]}]}
// Each case is a fresh Y.Doc with that clientID (set before any edit, so item ids are
// known) whose Y.Text "content" gets the ops in order. For each cursor it prints what a stock
// editor publishes for that selection, and how a stock editor resolves the `page` and
// `legacy` cursors (JSON as received in awareness) the way y-codemirror.next does: the parsed
// object passed straight to `Y.createAbsolutePositionFromRelativePosition`, no
// `Y.createRelativePositionFromJSON`.
//
// stdout: one JSON document
//   {"yjs": <version>, "cases": [{"name": …, "text": <the text>, "cursors": [{
//     "stringify":  JSON.parse(JSON.stringify({anchor, head})) of the Y.RelativePositions
//                   (what y-codemirror.next, y-prosemirror, y-quill put in awareness),
//     "toJSON":     {anchor, head} through Y.relativePositionToJSON,
//     "page":       {"anchor": <index>, "head": <index>} or {"error": <message>},
//     "legacy":     the same for the legacy cursor (absent if none was given)}]}]}
// Exit 0, or a message on stderr and exit 1 (2 for a bad spec).
import * as Y from 'yjs'
import { readFileSync } from 'node:fs'

const version = JSON.parse(readFileSync(new URL('./node_modules/yjs/package.json', import.meta.url))).version

let spec
try {
  spec = JSON.parse(readFileSync(0, 'utf8'))
} catch (e) {
  console.error(`usage: node relpos-golden.mjs < spec.json (${e.message})`)
  process.exit(2)
}

/** Resolve an awareness cursor as y-codemirror.next's remote-selection plugin does. */
function resolve (cursor, doc, text) {
  try {
    const anchor = Y.createAbsolutePositionFromRelativePosition(cursor.anchor, doc)
    const head = Y.createAbsolutePositionFromRelativePosition(cursor.head, doc)
    if (anchor == null || head == null) return { error: 'does not resolve (null)' }
    if (anchor.type !== text || head.type !== text) return { error: 'not in the text "content"' }
    return { anchor: anchor.index, head: head.index }
  } catch (e) {
    return { error: `${e.name}: ${e.message}` }
  }
}

try {
  const cases = spec.cases.map(({ name, ops, cursors }) => {
    const doc = new Y.Doc()
    doc.clientID = spec.client
    const text = doc.getText('content')
    for (const op of ops) {
      if (op.insert) text.insert(op.insert[0], op.insert[1])
      else if (op.delete) text.delete(op.delete[0], op.delete[1])
      else throw new Error(`unknown op ${JSON.stringify(op)}`)
    }
    return {
      name,
      text: text.toString(),
      cursors: cursors.map((c) => {
        const anchor = Y.createRelativePositionFromTypeIndex(text, c.anchor)
        const head = Y.createRelativePositionFromTypeIndex(text, c.head)
        const out = {
          stringify: JSON.parse(JSON.stringify({ anchor, head })),
          toJSON: { anchor: Y.relativePositionToJSON(anchor), head: Y.relativePositionToJSON(head) },
          page: resolve(c.page, doc, text)
        }
        if (c.legacy) out.legacy = resolve(c.legacy, doc, text)
        return out
      })
    }
  })
  console.log(JSON.stringify({ yjs: version, cases }))
} catch (e) {
  console.error(e)
  process.exit(1)
}
