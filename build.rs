//! Generates Rust bindings for the httpd and APR headers of the Apache found
//! on this machine (`apxs`, `apr-1-config`), so the module is built against
//! exactly the ABI it will be loaded into.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn tool_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Compiler flags for httpd and APR, from the tools Apache ships for module builds.
fn apache_cflags() -> Vec<String> {
    let mut flags = Vec::new();
    let apxs = env::var("APXS").unwrap_or_else(|_| "apxs".into());
    match tool_output(&apxs, &["-q", "INCLUDEDIR"]) {
        Some(dir) => flags.push(format!("-I{dir}")),
        None => panic!(
            "`{apxs} -q INCLUDEDIR` failed: install Apache's development files \
             (Debian/Ubuntu: apt-get install apache2-dev) or set APXS"
        ),
    }
    let apr = tool_output("apr-1-config", &["--includes", "--cppflags"])
        .or_else(|| tool_output("pkg-config", &["--cflags", "apr-1", "apr-util-1"]))
        .expect("neither apr-1-config nor pkg-config apr-1 found (apt-get install apache2-dev)");
    flags.extend(apr.split_whitespace().map(str::to_string));
    if let Some(apu) = tool_output("apu-1-config", &["--includes"]) {
        flags.extend(apu.split_whitespace().map(str::to_string));
    }
    flags
}

fn main() {
    println!("cargo:rerun-if-changed=src/apache/ffi/wrapper.h");
    println!("cargo:rerun-if-changed=include/rswebsocket_plugin.h");
    println!("cargo:rerun-if-env-changed=APXS");
    let bindings = bindgen::Builder::default()
        .header("src/apache/ffi/wrapper.h")
        .clang_args(apache_cflags())
        // The plugin ABI's header, so the module's side of it is checked
        // against the header plugins are written to.
        .clang_arg("-Iinclude")
        .allowlist_function("ap_.*|apr_.*")
        .allowlist_type("request_rec|conn_rec|server_rec|module_struct|command_rec|cmd_parms.*|ap_filter_t|apr_.*|rsws_.*")
        .allowlist_var("AP_.*|APR_.*|MODULE_MAGIC_.*|OK|DECLINED|DONE|HTTP_.*|RSRC_CONF|ACCESS_CONF|OR_.*|M_.*|APLOG_.*|ap_my_generation|ap_scoreboard_image|ap_server_conf|RSWS_.*")
        .layout_tests(false)
        .derive_default(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen failed on the httpd/APR headers or include/rswebsocket_plugin.h");
    // httpd 2.4.58+ says which descriptor to poll for a connection's input
    // (an HTTP/2 stream's is a pipe, not the client socket); older headers
    // lack it, and the module then serves no HTTP/2 stream.
    println!("cargo::rustc-check-cfg=cfg(has_pollfd_from_conn)");
    if bindings
        .to_string()
        .contains("pub fn ap_get_pollfd_from_conn(")
    {
        println!("cargo:rustc-cfg=has_pollfd_from_conn");
    }
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("apache_bindings.rs");
    bindings.write_to_file(out).expect("cannot write bindings");
}
