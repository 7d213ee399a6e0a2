// A stock Yjs client (yjs + y-websocket from npm) against Tandem's /yjs endpoint.
//
// Run by server/tests/it/interop.rs, which starts the server and a Rust (yrs) client and sets:
//   TANDEM_YJS_URL  the endpoint base, e.g. ws://127.0.0.1:1234/yjs
//   TANDEM_ROOM     the room (the provider connects to `${TANDEM_YJS_URL}/${TANDEM_ROOM}`)
// The Rust client has written "from-rust;" before this starts. This client waits for it,
// appends "from-node;", and waits for the Rust client's answer "ack-from-rust;". Awareness
// goes both ways too: this client is "node", the Rust client is "rust".
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const url = process.env.TANDEM_YJS_URL
const room = process.env.TANDEM_ROOM

/** Resolve once `check()` is true, re-checking on every sync, document or awareness change. */
function until (provider, check, what, ms = 15000) {
  const { doc, awareness } = provider
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`timed out waiting for ${what}; text is ${JSON.stringify(doc.getText('content').toString())}`))
    }, ms)
    const onChange = () => {
      if (check()) {
        cleanup()
        resolve()
      }
    }
    const cleanup = () => {
      clearTimeout(timer)
      provider.off('sync', onChange)
      doc.off('update', onChange)
      awareness.off('change', onChange)
    }
    provider.on('sync', onChange)
    doc.on('update', onChange)
    awareness.on('change', onChange)
    onChange()
  })
}

test('a stock y-websocket client edits alongside a yrs client', { timeout: 30000 }, async () => {
  assert.ok(url && room, 'TANDEM_YJS_URL and TANDEM_ROOM must be set')
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true
  })
  const { awareness } = provider
  try {
    const text = doc.getText('content')
    await until(provider, () => provider.synced, 'sync')
    await until(provider, () => text.toString().includes('from-rust;'), "the Rust client's edit")

    awareness.setLocalStateField('user', { name: 'node' })
    text.insert(text.length, 'from-node;')
    await until(provider, () => text.toString().includes('ack-from-rust;'), "the Rust client's answer")

    const names = [...awareness.getStates().values()].map((s) => s.user?.name)
    await until(provider, () => [...awareness.getStates().values()].some((s) => s.user?.name === 'rust'),
      `the Rust client's awareness (have ${JSON.stringify(names)})`)
    assert.equal(text.toString(), 'from-rust;from-node;ack-from-rust;')
  } finally {
    provider.destroy()
    doc.destroy()
  }
})
