"""Echo client for tests/interop.rs on Python's `websockets`.

usage: ws_client.py URL SEQUENCES_JSON OFFER_JSON

SEQUENCES_JSON is a file: {"sequences": [{"name", "messages": [{"type":
"text"|"binary", "base64"}]}]}. Each sequence gets its own connection; each
message is sent, its echo awaited and compared byte for byte. One JSON line
per sequence: {"sequence", "extensions", "echoed", "error"}. Exit status 1
if any sequence failed.

OFFER_JSON: {} is the library's default offer; {"compression": null} offers
nothing; {"permessage_deflate": {...}} offers permessage-deflate with those
ClientPerMessageDeflateFactory arguments.

It uses the asyncio client, not the sync one issue 11 was found with: both
run the same sans-I/O protocol and permessage-deflate code, but over TLS the
sync client reads and writes one SSL socket from two threads, and now and
then its request after the TLS handshake never leaves (the server answers
408 after 20 s) or its close fails with a read timeout, which would make
these tests flaky. Over ws the sync client fails issue 11's sequences the
same way.
"""

import asyncio
import base64
import json
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

# Seconds for any one step: generous, for a busy 2-core machine.
TIMEOUT = 60


def connect_options(url, offer):
    options = {
        "open_timeout": TIMEOUT,
        "close_timeout": TIMEOUT,
        # No keepalive pings (a slow machine must not fail on them) and no
        # proxy from the environment: loopback only.
        "ping_interval": None,
        "proxy": None,
    }
    if url.startswith("wss:"):
        # The test server's certificate is self-signed.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        options["ssl"] = context
    if "compression" in offer:
        options["compression"] = offer["compression"]
    if "permessage_deflate" in offer:
        options["extensions"] = [
            ClientPerMessageDeflateFactory(**offer["permessage_deflate"])
        ]
    return options


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


async def run_sequence(url, sequence, offer):
    result = {"sequence": sequence["name"], "extensions": None, "echoed": 0, "error": None}
    messages = [(m["type"], base64.b64decode(m["base64"])) for m in sequence["messages"]]
    try:
        ws = await connect(url, **connect_options(url, offer))
    except Exception as e:  # the test wants the reason, whatever it is
        result["error"] = f"cannot connect: {type(e).__name__}: {e}"
        return result
    async with ws:
        result["extensions"] = ws.response.headers.get("Sec-WebSocket-Extensions")
        for index, (kind, data) in enumerate(messages, 1):
            what = f"message {index} of {len(messages)} ({kind}, {len(data)} bytes)"
            try:
                await ws.send(data.decode("utf-8") if kind == "text" else data)
                echo = await asyncio.wait_for(ws.recv(), TIMEOUT)
            except Exception as e:
                result["error"] = f"{what}: no echo: {type(e).__name__}: {e}"
                return result
            got_kind = "text" if isinstance(echo, str) else "binary"
            got = echo.encode("utf-8") if got_kind == "text" else echo
            if got_kind != kind or got != data:
                result["error"] = (
                    f"{what}: echo differs: got {got_kind}, {len(got)} bytes, "
                    f"first difference at byte {first_difference(got, data)}"
                )
                return result
            result["echoed"] = index
        await ws.close()
        if ws.close_code != 1000:
            result["error"] = f"closing: server answered {ws.close_code} {ws.close_reason!r}"
    return result


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url, sequences_file, offer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with open(sequences_file) as f:
        sequences = json.load(f)["sequences"]
    failed = False
    for sequence in sequences:
        result = asyncio.run(run_sequence(url, sequence, offer))
        failed = failed or result["error"] is not None
        print(json.dumps(result), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
