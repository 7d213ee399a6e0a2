// A stock Yjs editor's remote-caret plugin (yjs + y-websocket from npm, in Node.js) beside
// Tandem's page in a browser (e2e/tests/doc.rs): it reads the page person's caret exactly as
// y-codemirror.next's `YRemoteSelectionsPluginValue` does, and publishes its own the stock way.
//
//   node caret-peer.mjs <ws-base-url> <room> <name> <page-name> <text> <done-marker> [timeout-ms]
//
// Connects with `new WebsocketProvider(<ws-base-url>, <room>, doc)`, publishes `user`
// {name, color, colorLight}, then waits until the document's text is <text> and the awareness
// state of the person named <page-name> has a `cursor` whose `anchor` and `head` resolve to
// the end of the text. They are resolved as y-codemirror.next resolves them: the object
// y-protocols parsed from the awareness JSON handed straight to
// `Y.createAbsolutePositionFromRelativePosition(cursor.head, doc)`, with no
// `Y.createRelativePositionFromJSON`, so a missing `item` key (`undefined`, not `null`) throws
// as it does there (and y-codemirror.next switches its remote carets off). Then it publishes
// its own selection, from the start of the text to its end, as stock editors do: the
// `Y.RelativePosition` objects themselves in `cursor` {anchor, head}. It stays until the text
// contains <done-marker>.
//
// stdout, one line each: `synced`; `read <JSON {anchor, head, length, cursor}>` (the indexes
// the page's caret resolved to, the text's length, and the page's cursor as received);
// `published`; then `ok <final text as JSON>`; exit 0. If resolving the page's caret throws:
// `threw <message>` on stderr, exit 1 at once. On timeout (default 60 s): a message on
// stderr, exit 1.
import * as Y from 'yjs'
import { connect } from './peer.mjs'

const [url, room, name, pageName, expected, done, timeoutArg] = process.argv.slice(2)
if (!url || !room || !name || !pageName || expected === undefined || !done) {
  console.error('usage: node caret-peer.mjs <ws-base-url> <room> <name> <page-name> <text> <done-marker> [timeout-ms]')
  process.exit(2)
}

/** The page person's awareness state, if it is there. */
const pageState = () => [...awareness.getStates().entries()]
  .find(([client, s]) => client !== doc.clientID && s.user?.name === pageName)?.[1]

const { doc, text, provider, awareness, until, exit } = connect(url, room, Number(timeoutArg ?? 60000),
  () => `; ${pageName}'s awareness state is ${JSON.stringify(pageState() ?? null)}`)

/**
 * The page's caret as y-codemirror.next reads it (y-remote-selections.js: the state's
 * `cursor.anchor` and `cursor.head` passed as they are), if it is at the end of the text.
 */
function pageCaretAtEnd () {
  const state = pageState()
  const cursor = state?.cursor
  if (!provider.synced || text.toString() !== expected || cursor == null || cursor.anchor == null || cursor.head == null) {
    return null
  }
  let anchor, head
  try {
    anchor = Y.createAbsolutePositionFromRelativePosition(cursor.anchor, doc)
    head = Y.createAbsolutePositionFromRelativePosition(cursor.head, doc)
  } catch (e) {
    throw new Error(`threw ${e.name}: ${e.message}, resolving ${pageName}'s cursor ${JSON.stringify(cursor)}`)
  }
  if (anchor == null || head == null || anchor.type !== text || head.type !== text) return null
  if (anchor.index !== text.length || head.index !== text.length) return null
  return { anchor: anchor.index, head: head.index, length: text.length, cursor }
}

try {
  await until(() => provider.synced)
  console.log('synced')
  awareness.setLocalStateField('user', { name, color: '#b45309', colorLight: '#b4530933' })

  const read = await until(pageCaretAtEnd)
  console.log(`read ${JSON.stringify(read)}`)

  // As y-codemirror.next publishes a selection: the RelativePosition objects themselves.
  const anchor = Y.createRelativePositionFromTypeIndex(text, 0)
  const head = Y.createRelativePositionFromTypeIndex(text, text.length)
  awareness.setLocalStateField('cursor', { anchor, head })
  console.log('published')

  await until(() => text.toString().includes(done))
  console.log(`ok ${JSON.stringify(text.toString())}`)
  exit(0)
} catch (e) {
  console.error(e.message ?? e)
  exit(1)
}
