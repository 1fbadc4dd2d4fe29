/*
 * echo_plugin.c: a mod_rswebsocket plugin in plain C, against
 * include/rswebsocket_plugin.h (plugin ABI version 1) and nothing else.
 *
 * Two event-style handlers:
 *
 *   c_echo      sends every message back as it came (text as text, binary
 *               as binary), with three commands in text messages:
 *                 Goodbye            echoed, then the server closes (1000);
 *                 close CODE REASON  the server closes with CODE and REASON;
 *                 push N             a thread of the plugin's own sends the
 *                                    texts "push 1" .. "push N" through an
 *                                    rsws_sender, as a producer outside the
 *                                    connection's callbacks would.
 *   c_greeting  sends GREETING (below) once the connection is open, then
 *               behaves as c_echo.
 *
 * Build (make c-plugin-example):
 *
 *   cc -shared -fPIC -O2 -Wall -Wextra -Iinclude \
 *      -o target/examples/libc_echo_plugin.so \
 *      examples/c-plugin/echo_plugin.c -lpthread
 *
 * and name it in a handler file:
 *
 *   handler = c_echo
 *   plugin = /path/to/libc_echo_plugin.so
 */
/* nanosleep is POSIX, not C99. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rswebsocket_plugin.h"

/* What c_greeting sends first; -DGREETING='"..."' changes it. */
#ifndef GREETING
#define GREETING "hello from C"
#endif

/* The most messages one `push N` sends. */
#define MAX_PUSH 100000

/* The module's function table, from the latest call of
 * rswebsocket_plugin_v1 (Apache reloads the module when it re-reads its
 * configuration, and the module then calls it again). */
static const rsws_host *host;

/* --- small helpers ------------------------------------------------------ */

/* Whether the message (data, len) starts with the NUL-terminated prefix. */
static int starts_with(const uint8_t *data, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(data, prefix, n) == 0;
}

/* Parses the decimal number at the start of (data, len): its value, and in
 * *used how many bytes it took. -1 when there is no number or it exceeds
 * max. */
static long parse_number(const uint8_t *data, size_t len, long max, size_t *used)
{
    long value = 0;
    size_t i = 0;
    while (i < len && data[i] >= '0' && data[i] <= '9') {
        value = value * 10 + (data[i] - '0');
        if (value > max)
            return -1;
        i++;
    }
    *used = i;
    return i == 0 ? -1 : value;
}

/* Logs a message (a NUL-terminated string) at a level, through Apache. */
static void log_line(int level, const char *message)
{
    host->log(level, (const uint8_t *)message, strlen(message));
}

/* Returns RSWS_FAILED with a reason: the module closes the connection with
 * 1011 and logs one error line with the reason. */
static int fail(const char *reason)
{
    host->explain((const uint8_t *)reason, strlen(reason));
    return RSWS_FAILED;
}

/* --- push N: a thread sending through an rsws_sender -------------------- */

struct push_job {
    rsws_sender *sender; /* owned by the job: freed when it is done */
    long count;
};

static void pause_briefly(void)
{
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
}

static void *push_thread(void *arg)
{
    struct push_job *job = arg;
    char text[32];
    for (long i = 1; i <= job->count; i++) {
        int n = snprintf(text, sizeof text, "push %ld", i);
        int rc = host->sender_send(job->sender, RSWS_TEXT, (const uint8_t *)text, (size_t)n);
        /* The queue holds RSWS_QUEUE_CAPACITY messages: wait for the
         * connection to write some out, then try again. */
        while (rc == RSWS_ERR_FULL) {
            pause_briefly();
            rc = host->sender_send(job->sender, RSWS_TEXT, (const uint8_t *)text, (size_t)n);
        }
        if (rc != RSWS_OK)
            break; /* closed or lost: nobody to send to */
    }
    host->sender_free(job->sender);
    free(job);
    return NULL;
}

/* Starts a detached thread sending "push 1" .. "push count". */
static int start_push(rsws_conn *conn, long count)
{
    struct push_job *job = malloc(sizeof *job);
    if (job == NULL)
        return fail("c_echo: out of memory");
    job->sender = host->sender(conn);
    job->count = count;
    if (job->sender == NULL) {
        free(job);
        return fail("c_echo: no sender for the connection");
    }

    pthread_attr_t attr;
    pthread_t thread;
    int started = pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, push_thread, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        host->sender_free(job->sender);
        free(job);
        return fail("c_echo: cannot start the push thread");
    }
    return RSWS_CONTINUE;
}

/* --- the handlers' callbacks -------------------------------------------- */

/* c_echo's and c_greeting's on_message. A host function's error is
 * returned as it is: the connection then ends as that error says. */
static int echo_message(void *state, rsws_conn *conn, int kind, const uint8_t *data, size_t len)
{
    (void)state; /* no per-connection state */

    if (kind == RSWS_TEXT && starts_with(data, len, "push ")) {
        size_t used;
        long count = parse_number(data + 5, len - 5, MAX_PUSH, &used);
        if (count < 1 || 5 + used != len) {
            static const char usage[] = "usage: push N (1 to 100000)";
            return host->send(conn, RSWS_TEXT, (const uint8_t *)usage, sizeof usage - 1);
        }
        return start_push(conn, count);
    }

    if (kind == RSWS_TEXT && starts_with(data, len, "close ")) {
        /* close CODE [REASON]: the module checks the code and the reason's
         * length, and answers RSWS_ERR_INVALID to a bad one. */
        size_t used;
        long code = parse_number(data + 6, len - 6, 4999, &used);
        const uint8_t *reason = data + 6 + used;
        size_t reason_len = len - 6 - used;
        if (reason_len > 0 && reason[0] == ' ') {
            reason++;
            reason_len--;
        }
        if (code < 0) {
            static const char usage[] = "usage: close CODE REASON";
            return host->send(conn, RSWS_TEXT, (const uint8_t *)usage, sizeof usage - 1);
        }
        return host->close(conn, (uint16_t)code, reason, reason_len);
    }

    int rc = host->send(conn, kind, data, len);
    if (rc != RSWS_OK)
        return rc;
    if (kind == RSWS_TEXT && len == 7 && memcmp(data, "Goodbye", 7) == 0)
        return host->close(conn, 1000, NULL, 0);
    return RSWS_CONTINUE;
}

static int echo_open(void *data, rsws_conn *conn, void **state)
{
    (void)data;
    (void)conn;
    *state = NULL; /* nothing to keep per connection, so no drop either */
    return RSWS_CONTINUE;
}

static int greeting_open(void *data, rsws_conn *conn, void **state)
{
    (void)data;
    *state = NULL;
    return host->send(conn, RSWS_TEXT, (const uint8_t *)GREETING, sizeof GREETING - 1);
}

/* --- the plugin's table ------------------------------------------------- */

/* Callbacks left out are NULL: every handler-file option is refused (a
 * start-up warning), every handshake accepted, a peer's close answered
 * with 1000, and there is no state to drop. */
static const rsws_handler handlers[] = {
    {
        .name = "c_echo",
        .open = echo_open,
        .on_message = echo_message,
    },
    {
        .name = "c_greeting",
        .open = greeting_open,
        .on_message = echo_message,
    },
};

static const rsws_plugin plugin = {
    .abi_version = RSWS_ABI_VERSION,
    .handler_size = sizeof(rsws_handler),
    .handler_count = sizeof handlers / sizeof handlers[0],
    .handlers = handlers,
};

/* The one exported symbol: called when the module loads the library,
 * perhaps more than once in a process. It keeps the latest host table and
 * returns the same handlers every time. */
const rsws_plugin *rswebsocket_plugin_v1(const rsws_host *h)
{
    /* A table too small for what this plugin calls cannot serve it. */
    if (h->abi_version != RSWS_ABI_VERSION || h->size < sizeof(rsws_host))
        return NULL;
    host = h;
    log_line(RSWS_LOG_DEBUG, "c_echo plugin loaded (handlers c_echo, c_greeting)");
    return &plugin;
}
