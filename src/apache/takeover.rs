//! Taking the connection over after the 101: what httpd's own tunnel code
//! (ap_proxy_tunnel_create) does, so nothing of Apache's HTTP machinery
//! writes to or times out the WebSocket.
use super::ffi;
use super::request::Request;

impl Request<'_> {
    /// Makes the connection the WebSocket's; call once the handshake is accepted.
    pub fn take_over(&self) {
        // SAFETY: the filter chains and fields belong to the live request and
        // connection of the running handler hook; the removals take filter
        // names Apache registered; no reference to either record is held.
        unsafe {
            let r = self.as_ptr();
            let c = (*r).connection;
            // mod_reqtimeout would cut a healthy idle WebSocket.
            ffi::ap_remove_input_filter_byhandle((*c).input_filters, c"reqtimeout".as_ptr());
            // mod_ssl's coalescing filter would hold small frames back.
            ffi::ap_remove_output_filter_byhandle(
                (*c).output_filters,
                c"SSL/TLS Coalescing Filter".as_ptr(),
            );
            // Bypass the request's HTTP filters: without this (or assbackwards)
            // Apache appends a second 101 response after the WebSocket ends.
            (*r).input_filters = (*c).input_filters;
            (*r).proto_input_filters = (*c).input_filters;
            (*r).output_filters = (*c).output_filters;
            (*r).proto_output_filters = (*c).output_filters;
            // The connection is ours until it closes: no keep-alive afterwards.
            (*c).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_CLOSE;
            (*r).assbackwards = 1;
            // What the access log shows: the status the client saw. On an
            // HTTP/2 stream mod_http2 turns the 101 into RFC 8441's 200.
            (*r).status = if (*c).master.is_null() { 101 } else { 200 };
        }
    }

    /// Drops the connection without any response (a handler's `Abort`).
    pub fn abort_connection(&self) {
        // SAFETY: field writes on the live request and connection; an aborted
        // connection makes Apache discard output and close the socket.
        unsafe {
            let r = self.as_ptr();
            let c = (*r).connection;
            (*c).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_CLOSE;
            (*c).aborted = 1;
            (*r).assbackwards = 1;
        }
    }
}
