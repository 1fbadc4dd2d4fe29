/* The httpd and APR headers the module is built against, and the plugin
 * ABI it offers (bindgen input). */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_log.h>
#include <http_main.h>
#include <http_connection.h>
#include <http_ssl.h>
#include <util_filter.h>
#include <ap_mpm.h>
#include <mpm_common.h>
#include <scoreboard.h>
#include <apr_strings.h>
#include <apr_buckets.h>
#include <apr_network_io.h>
#include <apr_poll.h>
#include <apr_tables.h>
#include "rswebsocket_plugin.h"
