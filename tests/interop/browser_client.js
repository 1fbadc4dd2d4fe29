// Evaluated by tests/interop.rs in a Chromium page served by the test
// Apache (so its origin is trusted): an async function of (url, sequence)
// with the contract of ws_client.py, for one sequence. Returns
// {sequence, extensions, echoed, error}. The browser chooses the offer
// (permessage-deflate; client_max_window_bits) and compresses every message.
async (url, sequence) => {
  // Milliseconds for any one step; the DevTools answer itself must come
  // within 60 s, so a lost echo fails here first, with its message named.
  const TIMEOUT = 20000;
  const result = { sequence: sequence.name, extensions: null, echoed: 0, error: null };
  const bytesOf = b64 => Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const messages = sequence.messages.map(m => ({ type: m.type, data: bytesOf(m.base64) }));

  const events = [];
  let waiting = null;
  const push = event => {
    events.push(event);
    if (waiting) waiting();
  };
  const next = what => new Promise((resolve, reject) => {
    const take = () => {
      waiting = null;
      clearTimeout(timer);
      resolve(events.shift());
    };
    const timer = setTimeout(() => {
      waiting = null;
      reject(new Error(`nothing within ${TIMEOUT / 1000} s while waiting for ${what}`));
    }, TIMEOUT);
    if (events.length > 0) take(); else waiting = take;
  });
  // Browsers give no reason for a failed connection: the close code is all.
  const describe = e => e.kind === "close"
    ? `close ${e.code} ${JSON.stringify(e.reason)}${e.wasClean ? "" : " (not clean)"}`
    : e.kind;
  const firstDifference = (a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
    return n;
  };

  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => push({ kind: "open" });
  socket.onmessage = e => push({ kind: "message", data: e.data });
  socket.onerror = () => push({ kind: "error" });
  socket.onclose = e => push({ kind: "close", code: e.code, reason: e.reason, wasClean: e.wasClean });
  try {
    let opened = await next("the opening handshake");
    if (opened.kind === "error") opened = await next("the close after an error");
    if (opened.kind !== "open") throw new Error(`cannot connect: ${describe(opened)}`);
    result.extensions = socket.extensions || null;
    for (const [i, { type, data }] of messages.entries()) {
      const what = `message ${i + 1} of ${messages.length} (${type}, ${data.length} bytes)`;
      socket.send(type === "text" ? new TextDecoder("utf-8", { fatal: true }).decode(data) : data);
      let echo = await next(`the echo of ${what}`);
      if (echo.kind === "error") echo = await next(`the close after an error on ${what}`);
      if (echo.kind !== "message") throw new Error(`${what}: no echo: ${describe(echo)}`);
      const gotType = typeof echo.data === "string" ? "text" : "binary";
      const got = gotType === "text" ? new TextEncoder().encode(echo.data) : new Uint8Array(echo.data);
      const at = firstDifference(got, data);
      if (gotType !== type || got.length !== data.length || at !== data.length) {
        throw new Error(`${what}: echo differs: got ${gotType}, ${got.length} bytes, first difference at byte ${at}`);
      }
      result.echoed = i + 1;
    }
    socket.close(1000);
    const closed = await next("the closing handshake");
    if (closed.kind !== "close" || closed.code !== 1000) throw new Error(`closing: ${describe(closed)}`);
  } catch (error) {
    result.error = error.message;
    socket.close();
  }
  return result;
}
