#!/usr/bin/env python3
"""WebSockets over HTTP/2 (RFC 8441), spoken raw, for tests/http2.rs.

A client of the `h2` library (the HTTP/2 framing, HPACK and flow-control
bookkeeping) and nothing else: it opens one HTTP/2 connection to
127.0.0.1:PORT, over TLS with ALPN h2 (the test certificate is self-signed,
so it is not verified) or in cleartext with prior knowledge (h2c), checks
that the server's SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, and
opens WebSockets as extended CONNECT streams (:method CONNECT, :protocol
websocket). WebSocket frames (RFC 6455, masked from the client) travel in
the streams' DATA frames.

Flow control is the client's own: received data is acknowledged as it is
read (except on a stream a scenario deliberately stalls, whose bytes are
given back to the connection only), and a message larger than the peer's
window is sent in pieces, waiting for WINDOW_UPDATE between them.

usage: ws_over_h2.py {h2|h2c} PORT SCENARIO [options]

Each scenario prints one JSON line with what it saw (`hold` prints two) and
exits 0, also when what it saw is wrong: the Rust tests judge. A client
failure (a timeout, the connection ending) prints {"error": ...} and exits 1.
"""

import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time
import traceback
import zlib

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

# WebSocket opcodes.
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# How long any one wait for the server may take before the scenario fails.
WAIT = 20.0


class ClientError(Exception):
    """The scenario could not go on (timeout, connection gone, bad frame)."""


def encode_frame(opcode, payload, fin=True, rsv1=False):
    """One masked client frame."""
    mask = os.urandom(4)
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    # XOR with the repeated mask, on integers for speed (1 MiB messages).
    repeated = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")
    return head + mask + masked


class WebSocketStream:
    """One extended CONNECT stream and the WebSocket carried in it."""

    def __init__(self, client, stream_id, path, websocket=True):
        self.client = client
        self.websocket = websocket  # False: a plain GET
        self.id = stream_id
        self.path = path
        self.status = None  # the :status of the response, once it came
        self.headers = {}  # the response's other headers
        self.body = b""  # the body of a response other than 200
        self.buffer = b""  # server bytes not yet parsed into frames
        self.fragments = None  # (opcode, compressed, [payloads]) of a message in progress
        self.messages = []  # whole messages not yet taken: (opcode, payload)
        self.close = None  # (code, reason) of the server's close frame
        self.ended = None  # "END_STREAM", "RST_STREAM <code>" or "connection closed"
        self.paused = False  # stalled on purpose: data not acknowledged on the stream
        self.unacknowledged = 0  # bytes held back while paused
        self.received_bytes = 0  # flow-controlled bytes received in all
        self.sent_close = False
        self.inflater = None  # permessage-deflate, when the server agreed to it
        self.compressed_messages = 0  # messages that came compressed

    # What the client side of the connection calls.

    def on_response(self, headers):
        for name, value in headers:
            if name == ":status":
                self.status = int(value)
            else:
                self.headers[name] = value
        if self.status == 200 and "permessage-deflate" in self.headers.get(
            "sec-websocket-extensions", ""
        ):
            self.inflater = zlib.decompressobj(-15)

    def end(self, how):
        """The server ended the stream: the first way it did is `ended`."""
        if self.ended is None:
            self.ended = how

    def on_data(self, data):
        if self.status != 200 or not self.websocket:
            # A refusal's body (an error page) or a plain GET's: no frames.
            self.body += data
            return
        self.buffer += data
        self._parse()

    def _parse(self):
        while len(self.buffer) >= 2:
            first, second = self.buffer[0], self.buffer[1]
            if second & 0x80:
                raise ClientError("stream %d: a masked server frame" % self.id)
            n, offset = second & 0x7F, 2
            if n == 126:
                if len(self.buffer) < 4:
                    return
                n, offset = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif n == 127:
                if len(self.buffer) < 10:
                    return
                n, offset = struct.unpack("!Q", self.buffer[2:10])[0], 10
            if len(self.buffer) < offset + n:
                return
            payload = self.buffer[offset : offset + n]
            self.buffer = self.buffer[offset + n :]
            self._frame(bool(first & 0x80), bool(first & 0x40), first & 0x0F, payload)

    def _frame(self, fin, rsv1, opcode, payload):
        if opcode == CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.close = (code, payload[2:].decode("utf-8", "replace"))
            if not self.sent_close:
                # Answer the server's close, as a client must.
                self.sent_close = True
                self.answer(CLOSE, payload[:2])
            return
        if opcode == PING:
            self.answer(PONG, payload)
            return
        if opcode == PONG:
            return
        if opcode != CONTINUATION:
            self.fragments = (opcode, rsv1, [payload])
        elif self.fragments is None:
            raise ClientError("stream %d: a continuation without a message" % self.id)
        else:
            self.fragments[2].append(payload)
        if fin:
            opcode, compressed, parts = self.fragments
            self.fragments = None
            data = b"".join(parts)
            if compressed:
                if self.inflater is None:
                    raise ClientError("stream %d: RSV1 without permessage-deflate" % self.id)
                data = self.inflater.decompress(data + b"\x00\x00\xff\xff")
                self.compressed_messages += 1
            self.messages.append((opcode, data))

    def answer(self, opcode, payload):
        """A frame answering the server's, unless the stream is over (the
        events of one read are handled after all its frames: a close frame
        may be read with the end of its stream)."""
        try:
            self.send_frame(opcode, payload)
        except h2.exceptions.StreamClosedError:
            pass

    # What scenarios call.

    def send_frame(self, opcode, payload, fin=True):
        self.client.send_data(self, encode_frame(opcode, payload, fin))

    def send_text(self, text):
        self.send_frame(TEXT, text.encode("utf-8"))

    def send_binary(self, data):
        self.send_frame(BINARY, data)

    def send_close(self, code, reason=""):
        self.sent_close = True
        self.send_frame(CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))

    def receive(self, timeout=WAIT):
        """The next whole message: (opcode, payload)."""
        self.client.pump_until(lambda: self.messages or self.close or self.ended, timeout)
        if not self.messages:
            raise ClientError(
                "stream %d: no message (close %r, ended %r)" % (self.id, self.close, self.ended)
            )
        return self.messages.pop(0)

    def wait_close(self, timeout=WAIT):
        """Waits for the server's close frame, then (a while) for the end of
        the stream; `ended` stays None if the server leaves it open."""
        self.client.pump_until(lambda: self.close or self.ended, timeout)
        try:
            self.client.pump_until(lambda: self.ended, min(timeout, 5.0))
        except ClientError:
            pass
        return self.close

    def pause(self):
        self.paused = True

    def resume(self):
        """Gives the stream back the window held while paused."""
        self.paused = False
        if self.unacknowledged and not self.ended:
            self.client.conn.increment_flow_control_window(self.unacknowledged, stream_id=self.id)
            self.client.flush()
        self.unacknowledged = 0

    def result(self):
        return {
            "status": self.status,
            "extensions": self.headers.get("sec-websocket-extensions"),
            "protocol": self.headers.get("sec-websocket-protocol"),
        }


class Client:
    """One HTTP/2 connection over TLS (h2) or cleartext (h2c)."""

    def __init__(self, mode, port):
        self.mode = mode
        self.port = port
        self.streams = {}
        self.alpn = None
        self.connect_protocol = None  # the server's SETTINGS_ENABLE_CONNECT_PROTOCOL
        self.window_waits = 0  # how often a send waited for the peer's window
        self.closed = False
        self.incoming = b""  # server bytes short of a whole HTTP/2 frame
        self.goaway = None  # the server's GOAWAY, if it sent one
        sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        if mode == "h2":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
            self.alpn = sock.selected_alpn_protocol()
            if self.alpn != "h2":
                raise ClientError("ALPN chose %r, not h2" % self.alpn)
        self.sock = sock
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.flush()
        # The server's first SETTINGS must allow extended CONNECT (RFC 8441 3).
        self.got_settings = False
        self.pump_until(lambda: self.got_settings, WAIT)
        if self.connect_protocol != 1:
            raise ClientError(
                "the server's SETTINGS_ENABLE_CONNECT_PROTOCOL is %r, not 1" % self.connect_protocol
            )

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def open(self, path, origin=True, extensions=None, protocol=None, headers=()):
        """Sends an extended CONNECT for `path`; returns its stream at once.

        `origin`: True for the server's own origin, a string for that
        origin, None for no origin header.
        """
        scheme = "https" if self.mode == "h2" else "http"
        authority = "127.0.0.1:%d" % self.port
        request = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", scheme),
            (":path", path),
            (":authority", authority),
            ("sec-websocket-version", "13"),
        ]
        if origin is True:
            origin = "%s://%s" % (scheme, authority)
        if origin is not None:
            request.append(("origin", origin))
        if extensions is not None:
            request.append(("sec-websocket-extensions", extensions))
        if protocol is not None:
            request.append(("sec-websocket-protocol", protocol))
        request.extend(headers)
        stream_id = self.conn.get_next_available_stream_id()
        stream = WebSocketStream(self, stream_id, path)
        self.streams[stream_id] = stream
        self.conn.send_headers(stream_id, request)
        self.flush()
        return stream

    def open_and_wait(self, path, **kwargs):
        stream = self.open(path, **kwargs)
        self.pump_until(lambda: stream.status is not None or stream.ended, WAIT)
        return stream

    def get(self, path):
        """A plain GET on a stream of its own: its status, once it ended."""
        stream_id = self.conn.get_next_available_stream_id()
        stream = WebSocketStream(self, stream_id, path, websocket=False)
        self.streams[stream_id] = stream
        scheme = "https" if self.mode == "h2" else "http"
        self.conn.send_headers(
            stream_id,
            [
                (":method", "GET"),
                (":scheme", scheme),
                (":path", path),
                (":authority", "127.0.0.1:%d" % self.port),
            ],
            end_stream=True,
        )
        self.flush()
        self.pump_until(lambda: stream.ended, WAIT)
        return stream.status

    def send_data(self, stream, data):
        """Sends `data` on the stream as the flow-control windows allow."""
        while data:
            window = self.conn.local_flow_control_window(stream.id)
            size = min(window, self.conn.max_outbound_frame_size, len(data))
            if size <= 0:
                self.window_waits += 1
                before = self.conn.local_flow_control_window
                self.pump_until(lambda: before(stream.id) > 0 or stream.ended, WAIT)
                if stream.ended:
                    raise ClientError("stream %d ended while sending" % stream.id)
                continue
            self.conn.send_data(stream.id, data[:size])
            data = data[size:]
            self.flush()

    def end_stream(self, stream):
        if stream.ended is None:
            self.conn.end_stream(stream.id)
            self.flush()

    def pump(self, timeout):
        """Reads what the server sent within `timeout`; False if nothing."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 16)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        if not data:
            self.closed = True
            for stream in self.streams.values():
                stream.end("connection closed")
            raise ClientError("the server closed the connection")
        for event in self.conn.receive_data(self.screen(data)):
            self.event(event)
        self.flush()
        return True

    def screen(self, data):
        """Takes GOAWAY frames out of what the server sent, noting them.

        The `h2` library closes its side of the connection on a GOAWAY and
        then refuses the frames that still come on streams the server goes
        on serving (RFC 9113 6.8), such as a WebSocket's closing handshake
        when the server stops gracefully. So the client reads GOAWAY itself,
        and opens no stream after one.
        """
        self.incoming += data
        passed = []
        while len(self.incoming) >= 9:
            length = int.from_bytes(self.incoming[0:3], "big")
            if len(self.incoming) < 9 + length:
                break
            frame, self.incoming = self.incoming[: 9 + length], self.incoming[9 + length :]
            if frame[3] == 0x7 and length >= 8:
                self.goaway = {
                    "last_stream_id": int.from_bytes(frame[9:13], "big") & 0x7FFFFFFF,
                    "error_code": int.from_bytes(frame[13:17], "big"),
                }
            else:
                passed.append(frame)
        return b"".join(passed)

    def event(self, event):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            setting = event.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
            if setting is not None:
                self.connect_protocol = setting.new_value
            self.got_settings = True
            return
        stream = self.streams.get(getattr(event, "stream_id", None))
        if stream is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            stream.on_response(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            length = event.flow_controlled_length
            stream.received_bytes += length
            if stream.paused:
                # Give the bytes back to the connection, not to the stream:
                # the stream's window closes, the others' stay open.
                stream.unacknowledged += length
                if length:
                    self.conn.increment_flow_control_window(length)
            else:
                self.conn.acknowledge_received_data(length, stream.id)
            stream.on_data(event.data)
        elif isinstance(event, h2.events.StreamEnded):
            stream.end("END_STREAM")
        elif isinstance(event, h2.events.StreamReset):
            stream.end("RST_STREAM %s" % getattr(event.error_code, "name", event.error_code))

    def pump_until(self, done, timeout):
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClientError("timed out after %.1f s" % timeout)
            self.pump(min(left, 1.0))

    def settle(self, seconds):
        """Reads whatever comes for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(max(0.01, deadline - time.monotonic()))

    def close(self):
        if not self.closed:
            try:
                self.conn.close_connection()
                self.flush()
            except Exception:
                pass
        self.sock.close()

    def info(self):
        return {
            "mode": self.mode,
            "alpn": self.alpn,
            "enable_connect_protocol": self.connect_protocol,
            "goaway": self.goaway,
        }


def close_normally(client, stream):
    """The client's side of a clean end: close 1000, then END_STREAM."""
    if stream.status == 200 and stream.ended is None:
        if not stream.sent_close:
            stream.send_close(1000)
        try:
            stream.wait_close(5)
        except ClientError:
            pass
        client.end_stream(stream)


def compare(name, sent_opcode, sent, received):
    opcode, payload = received
    return {
        "name": name,
        "sent_opcode": sent_opcode,
        "received_opcode": opcode,
        "sent_length": len(sent),
        "received_length": len(payload),
        "equal": opcode == sent_opcode and payload == sent,
    }


# Scenarios: each takes (client, options) and returns a dict to print.


def scenario_echo(client, options):
    """Text, binary, empty and 1 MiB messages through /echo, one at a time."""
    stream = client.open_and_wait("/echo")
    result = {"stream": stream.result(), "messages": []}
    if stream.status != 200:
        return result
    mebibyte = bytes((i * 7 + (i >> 10)) & 0xFF for i in range(1 << 20))
    cases = [
        ("text", TEXT, "hello over HTTP/2 \u00e9\u20ac".encode("utf-8")),
        ("binary", BINARY, bytes(range(256))),
        ("empty text", TEXT, b""),
        ("empty binary", BINARY, b""),
        ("1 MiB binary", BINARY, mebibyte),
        ("text after", TEXT, b"still here"),
    ]
    for name, opcode, payload in cases:
        waits = client.window_waits
        stream.send_frame(opcode, payload)
        entry = compare(name, opcode, payload, stream.receive())
        entry["send_window_waits"] = client.window_waits - waits
        result["messages"].append(entry)
    close_normally(client, stream)
    result["close"] = stream.close
    return result


def scenario_close_client(client, options):
    """The client closes with 4000 "bye"; the server answers and ends the stream."""
    stream = client.open_and_wait(options.path)
    result = {"stream": stream.result()}
    if stream.status != 200:
        return result
    stream.send_text("before the close")
    result["echo"] = stream.receive()[1].decode("utf-8")
    stream.send_close(4000, "bye")
    stream.wait_close()
    result["close"] = stream.close
    result["ended"] = stream.ended
    client.end_stream(stream)
    return result


def scenario_close_server(client, options):
    """Text "Goodbye" to /echo: the echo, then the server's close 1000."""
    stream = client.open_and_wait("/echo")
    result = {"stream": stream.result()}
    if stream.status != 200:
        return result
    stream.send_text("Goodbye")
    stream.wait_close()
    result["messages"] = [payload.decode("utf-8", "replace") for _, payload in stream.messages]
    result["close"] = stream.close
    result["ended"] = stream.ended
    client.end_stream(stream)
    return result


def scenario_multiplex(client, options):
    """N WebSockets on this one connection, every send interleaved.

    mod_http2 lets a connection run only 6 streams at once at first, and
    doubles that (up to H2MaxWorkers) each time a stream it ran completes,
    at most every 100 ms; a WebSocket never completes while open. With
    --warm-up K the client first makes K plain GETs of / in turn, 150 ms
    apart, as a page loads before it opens its WebSockets.
    """
    result = {"warm_up": []}
    for _ in range(options.warm_up):
        time.sleep(0.15)
        result["warm_up"].append(client.get("/"))
    streams = [client.open("/echo") for _ in range(options.streams)]
    try:
        client.pump_until(lambda: all(s.status is not None or s.ended for s in streams), WAIT)
    except ClientError:
        pass  # the statuses say which never came
    statuses = {}
    for s in streams:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    result.update(streams=len(streams), statuses=statuses, in_order=0, failures=[])
    if any(s.status != 200 for s in streams):
        return result
    sent = {s.id: [] for s in streams}
    for round_ in range(options.messages):
        for i, s in enumerate(streams):
            text = "stream %d (id %d) message %d" % (i, s.id, round_)
            s.send_text(text)
            sent[s.id].append(text)
    expected = options.messages
    client.pump_until(
        lambda: all(len(s.messages) >= expected or s.close or s.ended for s in streams), WAIT
    )
    for s in streams:
        got = [payload.decode("utf-8", "replace") for _, payload in s.messages]
        if got == sent[s.id]:
            result["in_order"] += 1
        else:
            result["failures"].append({"stream": s.id, "sent": sent[s.id], "got": got})
    result["distinct_ids"] = len({s.id for s in streams})
    for s in streams:
        s.messages.clear()
        s.send_close(1000)
    client.pump_until(lambda: all(s.close or s.ended for s in streams), WAIT)
    result["closed_1000"] = sum(1 for s in streams if s.close and s.close[0] == 1000)
    for s in streams:
        client.end_stream(s)
    return result


def scenario_stall(client, options):
    """Stream A stops being read while /bench floods it; B must still echo."""
    a = client.open_and_wait("/bench")
    b = client.open_and_wait("/echo")
    result = {"a": a.result(), "b": b.result()}
    if a.status != 200 or b.status != 200:
        return result
    window = client.conn.local_settings.initial_window_size
    result["a_window"] = window
    a.pause()
    a.send_text("send %d %d" % (options.count, options.size))
    # A's window closes once the server has sent all of it.
    try:
        client.pump_until(lambda: a.received_bytes >= window, WAIT)
    except ClientError:
        pass
    client.settle(0.5)
    result["a_bytes_before_stall"] = a.received_bytes
    result["a_window_exhausted"] = a.received_bytes >= window
    times = []
    echoed = 0
    start = time.monotonic()
    for i in range(options.round_trips):
        text = "B round trip %d" % i
        t = time.monotonic()
        b.send_text(text)
        try:
            opcode, payload = b.receive(options.round_trip_limit)
        except ClientError as e:
            result["b_error"] = str(e)
            break
        times.append(time.monotonic() - t)
        if (opcode, payload) == (TEXT, text.encode("utf-8")):
            echoed += 1
    result["b_round_trips"] = options.round_trips
    result["b_echoed"] = echoed
    result["b_seconds"] = round(time.monotonic() - start, 3)
    result["b_max_round_trip_ms"] = round(max(times) * 1000, 1) if times else None
    # A still stalled while B went on: nothing more than its window came.
    result["a_bytes_during_b"] = a.received_bytes
    # Then A resumes and gets everything it asked for: COUNT binary
    # messages, then the text "sent COUNT".
    a.resume()
    total = options.count + 1
    try:
        client.pump_until(lambda: len(a.messages) >= total or a.ended, options.resume_limit)
    except ClientError as e:
        result["a_resume_error"] = str(e)
    binary = [p for op, p in a.messages if op == BINARY]
    result["a_binary_after_resume"] = len(binary)
    result["a_sizes_ok"] = all(len(p) == options.size for p in binary)
    last = a.messages[-1] if a.messages else (None, b"")
    result["a_last_text"] = last[1].decode("utf-8", "replace") if last[0] == TEXT else None
    a.messages.clear()
    close_normally(client, a)
    close_normally(client, b)
    return result


def scenario_handshake(client, options):
    """One CONNECT with the given headers: the response, and one echo if 200."""
    origin = options.origin
    if options.no_origin:
        origin = None
    elif origin is None:
        origin = True
    stream = client.open_and_wait(
        options.path, origin=origin, extensions=options.extensions, protocol=options.protocol
    )
    result = {"stream": stream.result(), "headers": stream.headers}
    if stream.status == 200:
        stream.send_text(options.message)
        opcode, payload = stream.receive()
        result["echo"] = payload.decode("utf-8", "replace") if opcode == TEXT else None
        result["compressed_messages"] = stream.compressed_messages
        close_normally(client, stream)
        result["close"] = stream.close
    else:
        # A refusal ends the stream with the response (and maybe a body).
        try:
            client.pump_until(lambda: stream.ended, 5)
        except ClientError:
            pass
        result["ended"] = stream.ended
    return result


def scenario_maxconn(client, options):
    """One open WebSocket, then a second stream on the same connection."""
    first = client.open_and_wait("/echo")
    result = {"first": first.result()}
    if first.status != 200:
        return result
    first.send_text("first")
    result["first_echo"] = first.receive()[1].decode("utf-8")
    second = client.open_and_wait("/echo")
    result["second"] = second.result()
    if second.status == 200:
        close_normally(client, second)
    # The first one still works, then leaves; a slot frees up.
    first.send_text("first again")
    result["first_echo_again"] = first.receive()[1].decode("utf-8")
    close_normally(client, first)
    deadline = time.monotonic() + WAIT
    attempts = 0
    while True:
        attempts += 1
        third = client.open_and_wait("/echo")
        if third.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    result["after_close"] = third.result()
    result["after_close_attempts"] = attempts
    if third.status == 200:
        third.send_text("room again")
        result["after_close_echo"] = third.receive()[1].decode("utf-8")
        close_normally(client, third)
    return result


def scenario_queued(client, options):
    """More WebSockets than mod_http2 runs at once on a fresh connection
    (6): those it holds back are served as the first ones close."""
    streams = [client.open("/echo") for _ in range(options.streams)]
    client.settle(1.5)
    result = {"streams": len(streams), "answered_at_first": sum(1 for s in streams if s.status)}
    served = 0
    for i, s in enumerate(streams):
        try:
            client.pump_until(lambda: s.status is not None or s.ended, WAIT)
        except ClientError:
            break
        if s.status != 200:
            break
        text = "queued stream %d" % i
        s.send_text(text)
        if s.receive() == (TEXT, text.encode("utf-8")):
            served += 1
        close_normally(client, s)
    result["served"] = served
    result["statuses"] = [s.status for s in streams]
    return result


def scenario_hold(client, options):
    """Opens /echo, says so, then waits for the server to close it."""
    stream = client.open_and_wait(options.path)
    result = {"stream": stream.result()}
    if stream.status == 200:
        stream.send_text("before")
        result["echo"] = stream.receive()[1].decode("utf-8")
    print(json.dumps(dict(result, **client.info())), flush=True)
    if stream.status != 200:
        return None
    stream.wait_close(options.wait)
    client.end_stream(stream)
    return {"close": stream.close, "ended": stream.ended, "messages": len(stream.messages)}


SCENARIOS = {
    "echo": scenario_echo,
    "close-client": scenario_close_client,
    "close-server": scenario_close_server,
    "multiplex": scenario_multiplex,
    "stall": scenario_stall,
    "handshake": scenario_handshake,
    "maxconn": scenario_maxconn,
    "queued": scenario_queued,
    "hold": scenario_hold,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["h2", "h2c"])
    parser.add_argument("port", type=int)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--streams", type=int, default=50, help="multiplex, queued: how many")
    parser.add_argument("--messages", type=int, default=5, help="multiplex: per stream")
    parser.add_argument("--warm-up", type=int, default=0, help="multiplex: GETs first")
    parser.add_argument("--count", type=int, default=256, help="stall: messages /bench sends A")
    parser.add_argument("--size", type=int, default=16384, help="stall: their size")
    parser.add_argument("--round-trips", type=int, default=20, help="stall: on B")
    parser.add_argument("--round-trip-limit", type=float, default=5.0, help="stall: seconds each")
    parser.add_argument("--resume-limit", type=float, default=60.0, help="stall: seconds")
    parser.add_argument("--path", default="/echo", help="handshake, hold")
    parser.add_argument("--origin", help="handshake: the origin header (default: the server's)")
    parser.add_argument("--no-origin", action="store_true", help="handshake: no origin header")
    parser.add_argument("--extensions", help="handshake: sec-websocket-extensions")
    parser.add_argument("--protocol", help="handshake: sec-websocket-protocol")
    parser.add_argument("--message", default="hello", help="handshake: text to echo")
    parser.add_argument("--wait", type=float, default=60.0, help="hold: seconds for the close")
    options = parser.parse_args()
    client = None
    try:
        client = Client(options.mode, options.port)
        result = SCENARIOS[options.scenario](client, options)
        if result is not None:
            print(json.dumps(dict(result, **client.info())), flush=True)
        return 0
    except (ClientError, OSError, h2.exceptions.ProtocolError) as e:
        traceback.print_exc()
        info = client.info() if client else {"mode": options.mode}
        print(json.dumps(dict(info, error="%s: %s" % (type(e).__name__, e))), flush=True)
        return 1
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    sys.exit(main())
