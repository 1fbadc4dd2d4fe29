// Echo client for tests/interop.rs on Node's `ws` package, whose
// permessage-deflate is Node's own zlib binding (not the module's code).
//
// usage: NODE_PATH=.../node_modules node ws_client.js URL SEQUENCES_JSON OFFER_JSON
//
// Same contract as ws_client.py: one connection per sequence, each message
// sent and its echo compared byte for byte, one JSON line per sequence
// ({sequence, extensions, echoed, error}), exit status 1 if any failed.
// OFFER_JSON is ws's `perMessageDeflate` option: {"perMessageDeflate": false},
// true (ws's defaults: messages under 1024 bytes go uncompressed), or an
// object of its parameters.
"use strict";
const fs = require("fs");
const WebSocket = require("ws");

// Milliseconds for any one step: generous, for a busy 2-core machine.
const TIMEOUT = 60000;

/// A connection whose events are read one at a time, with a timeout.
function open(url, offer) {
  const socket = new WebSocket(url, {
    perMessageDeflate: offer.perMessageDeflate ?? true,
    rejectUnauthorized: false, // the test server's certificate is self-signed
    handshakeTimeout: TIMEOUT,
  });
  const events = [];
  let waiting = null;
  const push = event => {
    events.push(event);
    if (waiting) waiting();
  };
  // The response's header as sent (socket.extensions has only the names).
  let extensions = null;
  socket.on("upgrade", response => (extensions = response.headers["sec-websocket-extensions"] ?? null));
  socket.on("open", () => push({ kind: "open", extensions }));
  socket.on("message", (data, isBinary) => push({ kind: "message", data, isBinary }));
  // ws reports a frame or inflate failure as an error, then a close.
  socket.on("error", error => push({ kind: "error", text: `${error.code || error.name}: ${error.message}` }));
  socket.on("close", (code, reason) => push({ kind: "close", code, reason: reason.toString() }));
  const next = what =>
    new Promise((resolve, reject) => {
      const take = () => {
        waiting = null;
        clearTimeout(timer);
        resolve(events.shift());
      };
      const timer = setTimeout(() => {
        waiting = null;
        reject(new Error(`nothing within ${TIMEOUT / 1000} s while waiting for ${what}`));
      }, TIMEOUT);
      if (events.length > 0) take();
      else waiting = take;
    });
  return { socket, next };
}

function describe(event) {
  if (event.kind === "error") return `error ${event.text}`;
  if (event.kind === "close") return `close ${event.code} ${JSON.stringify(event.reason)}`;
  return event.kind;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

async function runSequence(url, sequence, offer) {
  const result = { sequence: sequence.name, extensions: null, echoed: 0, error: null };
  const messages = sequence.messages.map(m => ({ type: m.type, data: Buffer.from(m.base64, "base64") }));
  const { socket, next } = open(url, offer);
  try {
    const opened = await next("the opening handshake");
    if (opened.kind !== "open") throw new Error(`cannot connect: ${describe(opened)}`);
    result.extensions = opened.extensions;
    for (const [i, { type, data }] of messages.entries()) {
      const what = `message ${i + 1} of ${messages.length} (${type}, ${data.length} bytes)`;
      socket.send(data, { binary: type === "binary" });
      const echo = await next(`the echo of ${what}`);
      if (echo.kind !== "message") throw new Error(`${what}: no echo: ${describe(echo)}`);
      const gotType = echo.isBinary ? "binary" : "text";
      if (gotType !== type || !echo.data.equals(data)) {
        throw new Error(`${what}: echo differs: got ${gotType}, ${echo.data.length} bytes, ` +
                        `first difference at byte ${firstDifference(echo.data, data)}`);
      }
      result.echoed = i + 1;
    }
    socket.close(1000);
    const closed = await next("the closing handshake");
    if (closed.kind !== "close" || closed.code !== 1000) throw new Error(`closing: ${describe(closed)}`);
  } catch (error) {
    result.error = error.message;
    socket.terminate();
  }
  return result;
}

async function main() {
  if (process.argv.length !== 5) {
    console.error("usage: node ws_client.js URL SEQUENCES_JSON OFFER_JSON");
    process.exit(2);
  }
  const [url, file, offerText] = process.argv.slice(2);
  const { sequences } = JSON.parse(fs.readFileSync(file, "utf8"));
  const offer = JSON.parse(offerText);
  let failed = false;
  for (const sequence of sequences) {
    const result = await runSequence(url, sequence, offer);
    failed = failed || result.error !== null;
    console.log(JSON.stringify(result));
  }
  process.exitCode = failed ? 1 : 0;
}

main();
