// What the stock Yjs peers (browser-peer.mjs, caret-peer.mjs) share: a Y.Doc connected to
// one room with y-websocket's own WebsocketProvider, a deadline, and waiting for a condition.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

/**
 * Connect to `<url>/<room>` (e.g. ws://127.0.0.1:1234/yjs + lobby) as a stock client does.
 * After `timeoutMs` the process says what it was waiting for (`describe()` adds to it) on
 * stderr and exits 1.
 */
export function connect (url, room, timeoutMs, describe = () => '') {
  const doc = new Y.Doc()
  const text = doc.getText('content')
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true
  })
  const { awareness } = provider
  const timer = setTimeout(() => {
    console.error(`timed out after ${timeoutMs} ms (synced: ${provider.synced}); text is ${JSON.stringify(text.toString())}${describe()}`)
    provider.destroy()
    process.exit(1)
  }, timeoutMs)

  /** Resolve with what `check()` returns once it is truthy (re-checked on every sync,
   * document or awareness change); reject if it throws. */
  const until = (check) => new Promise((resolve, reject) => {
    const onChange = () => {
      let got
      try {
        got = check()
      } catch (e) {
        cleanup()
        reject(e)
        return
      }
      if (got) {
        cleanup()
        resolve(got)
      }
    }
    const cleanup = () => {
      provider.off('sync', onChange)
      doc.off('update', onChange)
      awareness.off('change', onChange)
    }
    provider.on('sync', onChange)
    doc.on('update', onChange)
    awareness.on('change', onChange)
    onChange()
  })

  /** Disconnect and exit with `code`. */
  const exit = (code) => {
    clearTimeout(timer)
    provider.destroy()
    doc.destroy()
    process.exit(code)
  }

  return { doc, text, provider, awareness, until, exit }
}
