//! Loading a plugin library at configuration time.
//!
//! The module `dlopen`s a copy of the library, named after the file's
//! device, inode, size and modification time: glibc hands back an object
//! already loaded under the same name, so a graceful restart after a
//! rebuild would otherwise keep the old code, and a library overwritten in
//! place under running children would crash them. The copy is removed once
//! loaded (the mapping stays); the name still finds the loaded object when
//! Apache reloads this module and reads its configuration again.
use std::ffi::{c_void, CStr, CString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wscore::handler::Handler;

use super::super::ffi;
use super::handler::PluginHandler;
use super::host;

/// A loaded plugin and its handlers.
pub struct Plugin {
    path: PathBuf,
    handlers: Vec<&'static PluginHandler>,
}

impl Plugin {
    /// The handler registered under `name`.
    pub fn handler(&self, name: &str) -> Option<&'static dyn Handler> {
        self.handlers
            .iter()
            .find(|h| h.name == name)
            .map(|h| *h as &'static dyn Handler)
    }

    /// Its handlers' names, for error messages.
    pub fn handler_names(&self) -> Vec<&str> {
        self.handlers.iter().map(|h| h.name.as_str()).collect()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The plugins this load of the module has opened, by copy name: handler
/// files naming one library share it. Leaked: a library is never unloaded
/// (Rust libraries seldom can be), and a restart that no longer names it
/// costs only this small record.
static LOADED: Mutex<Vec<(PathBuf, &'static Plugin)>> = Mutex::new(Vec::new());

type InitFn = unsafe extern "C" fn(*const ffi::rsws_host) -> *const ffi::rsws_plugin;

/// Loads the plugin at `path` (copied under `runtime_dir`); the error is
/// one line for the configuration check.
pub fn load(path: &Path, runtime_dir: &Path) -> Result<&'static Plugin, String> {
    let shown = path.display();
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("plugin {shown}: no such file"),
        _ => format!("plugin {shown} cannot be read: {e}"),
    })?;
    if !meta.is_file() {
        return Err(format!("plugin {shown} is not a file"));
    }
    let copy = runtime_dir.join(format!(
        "rswebsocket-plugin.{}.{}.{}.{}.{}.so",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    ));
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, plugin)) = loaded.iter().find(|(name, _)| *name == copy) {
        return Ok(plugin);
    }
    let library = match open_loaded(&copy) {
        Some(library) => library,
        None => open_copy(path, &copy)?,
    };
    let plugin = Box::leak(Box::new(init(path, library)?));
    loaded.push((copy, plugin));
    Ok(plugin)
}

/// A loaded library's handle (dlopen's; never closed).
#[derive(Clone, Copy)]
struct Library(*mut c_void);

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("plugin path {} contains a NUL byte", path.display()))
}

/// The copy loaded earlier in this process, if any.
fn open_loaded(copy: &Path) -> Option<Library> {
    let name = c_path(copy).ok()?;
    // SAFETY: a NUL-terminated path; RTLD_NOLOAD only looks up loaded objects.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
    (!handle.is_null()).then_some(Library(handle))
}

/// Copies the library to `copy`, loads it and removes the file again.
fn open_copy(path: &Path, copy: &Path) -> Result<Library, String> {
    let partial = copy.with_extension(format!("{}.partial", std::process::id()));
    let copied = fs::copy(path, &partial).and_then(|_| fs::rename(&partial, copy));
    if copied.is_err() {
        // No writable runtime directory (e.g. `apache2 -t` as another user):
        // load in place; only a restart's pick-up of a rebuild needs the copy.
        let _ = fs::remove_file(&partial);
        return open(path, path);
    }
    let library = open(path, copy);
    let _ = fs::remove_file(copy);
    library
}

fn open(path: &Path, file: &Path) -> Result<Library, String> {
    let name = c_path(file)?;
    // SAFETY: a NUL-terminated path. Loading runs the library's
    // initialisers: a plugin is code the administrator chose to run.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        let reason = last_dl_error().replace(&file.display().to_string(), "");
        let reason = reason.trim_start_matches(": ");
        return Err(format!(
            "plugin {} is not a mod_rswebsocket plugin: cannot load it ({reason})",
            path.display()
        ));
    }
    Ok(Library(handle))
}

fn last_dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message valid until
    // the next dl call on this thread; it is copied at once.
    let message = unsafe { libc::dlerror() };
    if message.is_null() {
        return "unknown error".into();
    }
    // SAFETY: as above.
    unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned()
}

fn symbol(library: Library, name: &CStr) -> Option<*mut c_void> {
    // SAFETY: a handle from dlopen and a NUL-terminated name.
    let address = unsafe { libc::dlsym(library.0, name.as_ptr()) };
    (!address.is_null()).then_some(address)
}

/// Calls the plugin's init function and takes its table.
fn init(path: &Path, library: Library) -> Result<Plugin, String> {
    let shown = path.display();
    let Some(address) = symbol(library, c"rswebsocket_plugin_v1") else {
        for version in 2..=9 {
            let name = CString::new(format!("rswebsocket_plugin_v{version}")).unwrap_or_default();
            if symbol(library, &name).is_some() {
                return Err(abi_mismatch(path, version));
            }
        }
        return Err(format!(
            "plugin {shown} is not a mod_rswebsocket plugin (it exports no rswebsocket_plugin_v1)"
        ));
    };
    // SAFETY: the ABI's one symbol has this type (include/rswebsocket_plugin.h).
    let init: InitFn = unsafe { std::mem::transmute::<*mut c_void, InitFn>(address) };
    // SAFETY: the plugin's init with the module's table, which outlives it.
    let table = unsafe { init(host::table()) };
    // SAFETY: NULL or the plugin's table, valid while the process runs.
    let Some(table) = (unsafe { table.as_ref() }) else {
        return Err(format!(
            "plugin {shown} refused to load (rswebsocket_plugin_v1 returned NULL; its own log lines say why)"
        ));
    };
    if table.abi_version != ffi::RSWS_ABI_VERSION {
        return Err(abi_mismatch(path, table.abi_version));
    }
    let mut handlers = Vec::new();
    for index in 0..table.handler_count {
        let callbacks = handler_at(table, index);
        let handler = checked_handler(path, index, callbacks)?;
        if handlers
            .iter()
            .any(|h: &&PluginHandler| h.name == handler.name)
        {
            return Err(format!(
                "plugin {shown} has two handlers named '{}'",
                handler.name
            ));
        }
        handlers.push(&*Box::leak(Box::new(handler)));
    }
    Ok(Plugin {
        path: path.to_path_buf(),
        handlers,
    })
}

fn abi_mismatch(path: &Path, version: u32) -> String {
    format!(
        "plugin {} was built for plugin ABI version {version}; this module speaks ABI version {}",
        path.display(),
        ffi::RSWS_ABI_VERSION
    )
}

/// The plugin's `index`th handler, read with its own struct size: members
/// a smaller (older) struct lacks stay NULL.
fn handler_at(table: &ffi::rsws_plugin, index: usize) -> ffi::rsws_handler {
    let ours = std::mem::size_of::<ffi::rsws_handler>();
    let theirs = table.handler_size as usize;
    let mut handler = std::mem::MaybeUninit::<ffi::rsws_handler>::zeroed();
    // SAFETY: the table holds handler_count structs of handler_size bytes
    // each; at most min(ours, theirs) bytes are copied into a zeroed struct
    // whose members (pointers, optional functions) are all valid as zero.
    unsafe {
        let source = table.handlers.cast::<u8>().add(index * theirs);
        std::ptr::copy_nonoverlapping(source, handler.as_mut_ptr().cast::<u8>(), ours.min(theirs));
        handler.assume_init()
    }
}

fn checked_handler(
    path: &Path,
    index: usize,
    callbacks: ffi::rsws_handler,
) -> Result<PluginHandler, String> {
    let broken = |what: String| format!("plugin {} is broken: {what}", path.display());
    if callbacks.name.is_null() {
        return Err(broken(format!("handler {index} has no name")));
    }
    // SAFETY: a non-NULL name is NUL-terminated (the ABI's rule) and static.
    let name = unsafe { CStr::from_ptr(callbacks.name) };
    let name = name
        .to_str()
        .map_err(|_| broken(format!("handler {index}'s name is not UTF-8")))?
        .to_string();
    match (callbacks.open.is_some(), callbacks.transfer_data.is_some()) {
        (true, true) | (false, false) => Err(broken(format!(
            "handler '{name}' must set exactly one of open and transfer_data"
        ))),
        (true, false) if callbacks.on_message.is_none() => Err(broken(format!(
            "handler '{name}' has open but no on_message"
        ))),
        _ => Ok(PluginHandler {
            name,
            library: path.to_path_buf(),
            callbacks,
        }),
    }
}
