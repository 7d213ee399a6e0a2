// Raw-broadcast baseline for `cargo xtask bench`: uWebSockets.js (its native binary, never
// the pure-JS fallback), every connection subscribed to one topic, every text message
// received published to that topic as is (its sender included, as in the other servers).
// Usage: node broadcast.mjs [PORT]; listens on 127.0.0.1 (port 0: any free one) and
// prints its URL as the first line on stdout.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { platform, arch, versions } = process;
const uWS = require(
  `uWebSockets.js/binaries/uws_${platform}_${arch}_${versions.modules}.node`,
);

const TOPIC = "room";
const port = Number(process.argv[2] ?? 0);
const app = uWS.App();
app.ws("/*", {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 0,
  // A reader more than 1 MiB behind is skipped (a loss the bench counts), never closed.
  maxBackpressure: 1024 * 1024,
  closeOnBackpressureLimit: false,
  open: (ws) => ws.subscribe(TOPIC),
  message: (ws, message, isBinary) => {
    if (!isBinary) app.publish(TOPIC, message, false);
  },
});
app.listen("127.0.0.1", port, (token) => {
  if (!token) {
    console.error(`uws: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`uws listening on http://127.0.0.1:${uWS.us_socket_local_port(token)}/`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
