/*
 * mod_rswebsocket plugin ABI, version 1.
 *
 * A plugin is a shared library that serves WebSocket endpoints for
 * mod_rswebsocket. It exports one function, rswebsocket_plugin_v1, which
 * the module calls once when it loads the library (at configuration time,
 * in Apache's parent process) with the module's function table, and which
 * returns the plugin's table of handlers. Only plain data and function
 * pointers cross this boundary, so a plugin built by any compiler (any
 * rustc, any crate versions, or C) works with any module of this ABI.
 *
 * A handler file names the library and the handler in it:
 *
 *     handler = echo
 *     plugin = /usr/lib/rswebsocket/libmyplugin.so
 *
 * Rules for every callback:
 *  - It may run on any thread, concurrently with other connections'
 *    callbacks; one connection's callbacks never overlap.
 *  - It must not block (the event style): a blocked callback holds an
 *    Apache worker thread. transfer_data (the blocking style) is the
 *    exception: it owns its thread until the connection ends.
 *  - Pointers handed to it (rsws_conn, rsws_request, message bytes,
 *    rsws_str results) are valid until it returns, and no longer.
 *  - It must not unwind across this boundary (Rust: catch panics; the
 *    SDK does).
 *
 * Strings are UTF-8 (header values: as received), with a length and no
 * terminating NUL, except rsws_handler.name.
 */
#ifndef RSWEBSOCKET_PLUGIN_H
#define RSWEBSOCKET_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RSWS_ABI_VERSION 1

/* Message kinds. */
#define RSWS_TEXT 1
#define RSWS_BINARY 2

/* What a host function returns: RSWS_OK, or one of the errors. */
#define RSWS_OK 0
/* The connection is closed (or closing): nothing more can be sent. */
#define RSWS_ERR_CLOSED (-2)
/* The Sender's queue already holds RSWS_QUEUE_CAPACITY messages. */
#define RSWS_ERR_FULL (-3)
/* The protocol or the call's place refuses it: text that is not UTF-8, a
 * ping payload over 125 bytes, a binary message on a draft without binary,
 * a timer in the blocking style, an unknown kind or close code. */
#define RSWS_ERR_INVALID (-4)
/* The connection failed (lost, timed out, the server is stopping). */
#define RSWS_ERR_CONNECTION (-5)

#define RSWS_QUEUE_CAPACITY 1024

/*
 * What a connection callback (open, on_message, on_timer, on_written,
 * on_close, transfer_data) returns:
 *   RSWS_CONTINUE (0)  go on (transfer_data: the connection ends, 1000);
 *   1000..4999         close the connection with this code, and the reason
 *                      given to rsws_host.explain, if any;
 *   RSWS_FAILED (-1)   the callback failed (a Rust panic): the connection is
 *                      closed with 1011 and one error line is logged, with
 *                      the text given to rsws_host.explain;
 *   an RSWS_ERR_* code a host function returned, passed on: the connection
 *                      ends as that error says (e.g. RSWS_ERR_CONNECTION:
 *                      already lost, nothing more is sent).
 * No callback of the connection runs after a non-zero return.
 */
#define RSWS_CONTINUE 0
#define RSWS_FAILED (-1)

/*
 * What do_extra_handshake returns:
 *   RSWS_ACCEPT (0)    accept (with the subprotocol and headers set);
 *   400..599           refuse with this HTTP status; the reason given to
 *                      rsws_host.explain goes to the error log;
 *   RSWS_ABORT (-6)    drop the connection without any response;
 *   RSWS_FAILED (-1)   the callback failed: 500 and one error line.
 */
#define RSWS_ACCEPT 0
#define RSWS_ABORT (-6)

/* Log levels, as Apache's LogLevel names them. */
#define RSWS_LOG_ERROR 3
#define RSWS_LOG_WARN 4
#define RSWS_LOG_NOTICE 5
#define RSWS_LOG_INFO 6
#define RSWS_LOG_DEBUG 7

/* RFC 6455's versions are 13, 8 and 7; the old drafts: */
#define RSWS_VERSION_HYBI00 76
#define RSWS_VERSION_HIXIE75 75

/* Bytes owned by the module. ptr is NULL when the value is absent (no such
 * header, no Origin); an empty value has a non-NULL ptr and len 0. */
typedef struct rsws_str {
    const uint8_t *ptr;
    size_t len;
} rsws_str;

/* Opaque handles. rsws_request and rsws_conn are valid during one
 * callback; an rsws_sender until rsws_host.sender_free, from any thread. */
typedef struct rsws_request rsws_request;
typedef struct rsws_conn rsws_conn;
typedef struct rsws_sender rsws_sender;

/* The module's functions, given to rswebsocket_plugin_v1. Later minor
 * versions only append members; size says how many this module has. */
typedef struct rsws_host {
    uint32_t abi_version; /* RSWS_ABI_VERSION */
    uint32_t size;        /* sizeof(rsws_host) as the module has it */

    /* The opening handshake: in do_extra_handshake, and through
     * rsws_host.request in any connection callback. */
    rsws_str (*resource)(const rsws_request *req); /* path and query */
    rsws_str (*origin)(const rsws_request *req);
    /* The first request header of this name (case-insensitive). */
    rsws_str (*header)(const rsws_request *req, const uint8_t *name, size_t name_len);
    /* A handler-file option (every `key = value` but handler and plugin). */
    rsws_str (*option)(const rsws_request *req, const uint8_t *key, size_t key_len);
    rsws_str (*remote_addr)(const rsws_request *req);
    int (*secure)(const rsws_request *req); /* 1 over TLS (wss://) */
    int (*version)(const rsws_request *req);
    /* The subprotocols the client offered, in its order. */
    size_t (*protocol_count)(const rsws_request *req);
    rsws_str (*protocol_at)(const rsws_request *req, size_t index);
    /* The subprotocol chosen so far (absent: none). */
    rsws_str (*chosen_protocol)(const rsws_request *req);

    /* do_extra_handshake only (RSWS_ERR_INVALID elsewhere). */
    /* Must be one the client offered (RSWS_ERR_INVALID otherwise). */
    int (*choose_protocol)(rsws_request *req, const uint8_t *name, size_t len);
    int (*add_response_header)(rsws_request *req, const uint8_t *name, size_t name_len,
                               const uint8_t *value, size_t value_len);
    /* Refuse every extension the client offers (e.g. compression). */
    int (*refuse_extensions)(rsws_request *req);

    /* A connection, during one of its callbacks. */
    const rsws_request *(*request)(rsws_conn *conn);
    /* Queues a message; the module writes it when the callback returns
     * (event style) or at once (blocking style). */
    int (*send)(rsws_conn *conn, int kind, const uint8_t *data, size_t len);
    int (*send_ping)(rsws_conn *conn, const uint8_t *data, size_t len);
    /* Starts the closing handshake (in on_close: chooses the answer). No
     * message callback runs after it. reason: at most 123 bytes. */
    int (*close)(rsws_conn *conn, uint16_t code, const uint8_t *reason, size_t len);
    /* Event style: on_timer once, millis from now (replaces a timer set). */
    int (*set_timer)(rsws_conn *conn, uint64_t millis);
    int (*cancel_timer)(rsws_conn *conn);
    /* Event style: on_written once everything sent so far is written out;
     * on_message waits until then. */
    int (*when_written)(rsws_conn *conn);
    /* Blocking style: waits for the next message. Returns its kind
     * (RSWS_TEXT or RSWS_BINARY) with *data valid until the next receive or
     * the callback's return; 0 once the peer closed (the closing handshake
     * is answered: return RSWS_CONTINUE); or an RSWS_ERR_* code. */
    int (*receive)(rsws_conn *conn, rsws_str *data);
    /* A new handle for sending to this connection from anywhere. */
    rsws_sender *(*sender)(rsws_conn *conn);

    /* Senders: any thread, any time. Sends are queued and written by the
     * connection in order; RSWS_ERR_CLOSED once it has ended. */
    int (*sender_send)(const rsws_sender *s, int kind, const uint8_t *data, size_t len);
    int (*sender_ping)(const rsws_sender *s, const uint8_t *data, size_t len);
    /* Closes after what is queued; accepted even when the queue is full. */
    int (*sender_close)(const rsws_sender *s, uint16_t code, const uint8_t *reason, size_t len);
    int (*sender_is_open)(const rsws_sender *s);
    rsws_sender *(*sender_clone)(const rsws_sender *s);
    void (*sender_free)(rsws_sender *s);

    /* One line in Apache's error log, at this level (the server's LogLevel
     * filters it). */
    void (*log)(int level, const uint8_t *message, size_t len);
    /* The reason for the non-zero result the calling callback is about to
     * return: a close's reason, a refused handshake's or option's, a
     * failure's message. Applies to this thread's next return. */
    void (*explain)(const uint8_t *reason, size_t len);
} rsws_host;

/* One handler of the plugin. Exactly one of open (event style) and
 * transfer_data (blocking style) is set. Optional callbacks may be NULL. */
typedef struct rsws_handler {
    const char *name; /* NUL-terminated; what `handler =` names */
    void *data;       /* the plugin's, passed to the handler's callbacks */

    /* At start-up, once per option in a handler file naming this handler:
     * 0 accepts; non-zero refuses, with the reason given to explain (a
     * warning naming file and line). NULL: every option is refused. */
    int (*check_option)(void *data, rsws_str key, rsws_str value);
    /* Before the 101: see RSWS_ACCEPT. NULL: accept. */
    int (*do_extra_handshake)(void *data, rsws_request *req);

    /* Event style. open stores the connection's state in *state, which
     * the other callbacks get, and drop gets once the connection is over
     * (however it ended; the place to free it). drop is called only after
     * an open that returned RSWS_CONTINUE; on another result, open frees
     * what it made itself. */
    int (*open)(void *data, rsws_conn *conn, void **state);
    int (*on_message)(void *state, rsws_conn *conn, int kind, const uint8_t *data, size_t len);
    int (*on_timer)(void *state, rsws_conn *conn);
    int (*on_written)(void *state, rsws_conn *conn);
    /* The peer closes: code 0 when its close frame had none. NULL:
     * answer 1000. */
    int (*on_close)(void *state, rsws_conn *conn, int code, const uint8_t *reason, size_t len);
    void (*drop)(void *state);

    /* Blocking style: owns the connection until it returns. */
    int (*transfer_data)(void *data, rsws_conn *conn);
} rsws_handler;

/* What rswebsocket_plugin_v1 returns; it must stay valid while the
 * process runs. */
typedef struct rsws_plugin {
    uint32_t abi_version;  /* RSWS_ABI_VERSION */
    uint32_t handler_size; /* sizeof(rsws_handler) as the plugin has it */
    size_t handler_count;
    const rsws_handler *handlers;
} rsws_plugin;

/* The one symbol a plugin exports. NULL refuses to load (log why first).
 * The module may call it more than once in a process: Apache reloads the
 * module (and so its function table) when it re-reads its configuration.
 * Keep the latest host table, and return the same handlers each time. */
const rsws_plugin *rswebsocket_plugin_v1(const rsws_host *host);

#ifdef __cplusplus
}
#endif

#endif /* RSWEBSOCKET_PLUGIN_H */
