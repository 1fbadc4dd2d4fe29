#!/usr/bin/env python3
"""How many WebSockets over HTTP/2 (RFC 8441) one Apache holds, and what
the next stream and a plain GET then see (bench/h2-limits.sh runs it).

Opens CONNECTIONS HTTP/2 connections one after the other (h2, TLS), each
first making WARM_UP quick `GET /` (mod_http2 raises a connection's
concurrency only as streams complete), then opening WebSockets on /echo,
one at a time, until PER_CONNECTION are open or one gets no answer within
--answer seconds. Keeps them all open, then times a `GET /` on the first
connection and on a new one. Prints one JSON line.

usage: h2_limits.py PORT CONNECTIONS PER_CONNECTION [--warm-up N] [--answer S]
"""
import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "h2"))
from ws_over_h2 import Client, ClientError, WebSocketStream  # noqa: E402  (the tests' client)


def answered(client, stream, seconds):
    """The stream's status, or None if the server said nothing in time."""
    try:
        client.pump_until(lambda: stream.status is not None or stream.ended, seconds)
    except ClientError:
        return None
    return stream.status


def timed_get(client, seconds):
    """(status or None, seconds) of one `GET /`, as Client.get sends it but
    giving up after `seconds`."""
    # Without it the client's own Nagle delay (40 ms) would be timed.
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.monotonic()
    stream_id = client.conn.get_next_available_stream_id()
    stream = WebSocketStream(client, stream_id, "/", websocket=False)
    client.streams[stream_id] = stream
    client.conn.send_headers(
        stream_id,
        [(":method", "GET"), (":scheme", "https"), (":path", "/"),
         (":authority", "127.0.0.1:%d" % client.port)],
        end_stream=True,
    )
    client.flush()
    try:
        client.pump_until(lambda: stream.ended, seconds)
    except ClientError:
        return None, seconds
    return stream.status, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("connections", type=int)
    parser.add_argument("per_connection", type=int)
    parser.add_argument("--warm-up", type=int, default=0)
    parser.add_argument("--answer", type=float, default=3.0)
    options = parser.parse_args()
    clients, held, refused = [], 0, []
    started = time.monotonic()
    for i in range(options.connections):
        client = Client("h2", options.port)
        clients.append(client)
        for _ in range(options.warm_up):
            client.get("/")
            time.sleep(0.01)
        for _ in range(options.per_connection):
            stream = client.open("/echo")
            status = answered(client, stream, options.answer)
            if status == 200:
                held += 1
            else:
                refused.append(status)
                break
    same = timed_get(clients[0], options.answer)
    fresh = timed_get(Client("h2", options.port), options.answer)
    print(json.dumps({
        "held": held,
        "tried": options.connections * options.per_connection,
        "unanswered_or_refused": len(refused),
        "seconds": round(time.monotonic() - started, 1),
        "get_same_connection": same[0], "get_same_ms": round(same[1] * 1000, 1),
        "get_new_connection": fresh[0], "get_new_ms": round(fresh[1] * 1000, 1),
    }))


if __name__ == "__main__":
    main()
