// A stock Yjs peer (yjs + y-websocket from npm, in Node.js) for tests that put it beside
// another editor of the same room: Tandem's page in a browser (e2e/tests/doc.rs) or a yrs
// client (server/tests/it/interop.rs).
//
//   node browser-peer.mjs <ws-base-url> <room> <name> <marker> <await-marker> [timeout-ms]
//
// Connects with `new WebsocketProvider(<ws-base-url>, <room>, doc)` (so to
// `<ws-base-url>/<room>`, e.g. ws://127.0.0.1:1234/yjs/lobby), waits for the first sync,
// publishes awareness as a stock editor does (`user` {name, color}, and `cursor` {anchor,
// head} as Yjs relative positions, like y-codemirror), appends <marker> to the Y.Text
// "content" with its caret just after it, then waits until the text contains <await-marker>.
//
// stdout, one line each: `synced`, `inserted`, then `ok <final text as JSON>`; exit 0.
// On timeout (default 60 s) or a failure: a message on stderr and exit 1.
import * as Y from 'yjs'
import { connect } from './peer.mjs'

const [url, room, name, marker, awaited, timeoutArg] = process.argv.slice(2)
if (!url || !room || !name || !marker || !awaited) {
  console.error('usage: node browser-peer.mjs <ws-base-url> <room> <name> <marker> <await-marker> [timeout-ms]')
  process.exit(2)
}
const { text, provider, awareness, until, exit } = connect(url, room, Number(timeoutArg ?? 60000))

try {
  await until(() => provider.synced)
  console.log('synced')

  awareness.setLocalStateField('user', { name, color: '#0f766e', colorLight: '#0f766e33' })
  text.insert(text.length, marker)
  const caret = Y.createRelativePositionFromTypeIndex(text, text.length)
  awareness.setLocalStateField('cursor', { anchor: caret, head: caret })
  console.log('inserted')

  await until(() => text.toString().includes(awaited))
  console.log(`ok ${JSON.stringify(text.toString())}`)
  exit(0)
} catch (e) {
  console.error(e)
  exit(1)
}
