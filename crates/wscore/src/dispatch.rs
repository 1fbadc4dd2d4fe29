//! Dispatch: from a request's resource name to the handler that serves it.
//!
//! The handler root is scanned once, at start-up, for handler files
//! (`<root>/example/chat_wsh.conf` serves `/example/chat`); lookups then
//! only consult the in-memory map, never the filesystem, and only with a
//! [`normalize_resource`]d key, so no request can reach outside the map.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::handler::Handler;
use crate::handler_file::parse_handler_file;

/// File names ending in this are handler files.
pub const HANDLER_SUFFIX: &str = "_wsh.conf";

/// Most directories one scan walks: symlinks that alias directories (not
/// loops, which are caught) could otherwise multiply the walk.
const MAX_DIRS: usize = 10_000;

/// One resource and the handler that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerEntry {
    /// The normalized resource name, e.g. `/example/chat`.
    pub resource: String,
    pub handler: String,
    /// The plugin library holding the handler (`plugin =`), a relative
    /// path taken from the handler file's directory; `None`: compiled in.
    pub plugin: Option<PathBuf>,
    pub options: Vec<(String, String)>,
    /// The handler-file line of each option, in the same order.
    pub option_lines: Vec<usize>,
    /// The handler file it came from, as found under the root.
    pub file: PathBuf,
}

/// A file or directory the scan skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanWarning {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl ScanWarning {
    fn new(file: &Path, message: impl Into<String>) -> Self {
        ScanWarning {
            file: file.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScanWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Resource name → handler entry.
#[derive(Debug, Clone, Default)]
pub struct HandlerMap {
    entries: BTreeMap<String, HandlerEntry>,
}

impl HandlerMap {
    /// Scans `scan_dir` (default: `root`; a relative one is relative to
    /// `root`) for handler files. Never fails: every problem is a warning,
    /// and everything else still loads.
    pub fn scan(
        root: &Path,
        scan_dir: Option<&Path>,
        allow_outside_root: bool,
    ) -> (HandlerMap, Vec<ScanWarning>) {
        let mut scanner = Scanner {
            root_real: PathBuf::new(),
            allow_outside_root,
            ancestors: Vec::new(),
            dirs_walked: 0,
            map: HandlerMap::default(),
            warnings: Vec::new(),
        };
        scanner.run(root, scan_dir);
        (scanner.map, scanner.warnings)
    }

    /// Adds `entry` under its normalized resource name, replacing any entry
    /// already there. A resource that does not normalize is kept as given,
    /// where no lookup can reach it.
    pub fn insert(&mut self, mut entry: HandlerEntry) {
        if let Some(key) = normalize_resource(&entry.resource) {
            entry.resource = key;
        }
        self.entries.insert(entry.resource.clone(), entry);
    }

    /// The entry serving the request path `resource`, if any.
    pub fn lookup(&self, resource: &str) -> Option<&HandlerEntry> {
        self.entries.get(&normalize_resource(resource)?)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in resource-name order.
    pub fn iter(&self) -> impl Iterator<Item = &HandlerEntry> {
        self.entries.values()
    }

    /// Asks each entry's handler (as `find` resolves the entry) about each
    /// of its options: one warning, naming file and line, per option
    /// refused. Entries whose handler is unknown are left to the caller.
    pub fn check_options<'h>(
        &self,
        find: impl Fn(&HandlerEntry) -> Option<&'h dyn Handler>,
    ) -> Vec<ScanWarning> {
        let mut warnings = Vec::new();
        for entry in self.iter() {
            let Some(handler) = find(entry) else {
                continue;
            };
            for (index, (key, value)) in entry.options.iter().enumerate() {
                if let Err(reason) = handler.check_option(key, value) {
                    warnings.push(ScanWarning {
                        file: entry.file.clone(),
                        line: entry.option_lines.get(index).copied(),
                        message: format!("{reason} (handler '{}')", entry.handler),
                    });
                }
            }
        }
        warnings
    }
}

/// The lookup key for a request path (query stripped and already
/// %-decoded, as Apache hands it over), or `None` when the path is
/// malformed or could name something outside the map: it must start with
/// `/`; `.` and `..` segments, NUL, backslashes, control characters and any
/// `%` left after decoding (double encoding) are refused. Repeated `/` are
/// collapsed and a trailing `/` dropped.
pub fn normalize_resource(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains(['\\', '%']) || path.contains(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return None;
        }
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

/// The state of one scan.
struct Scanner {
    root_real: PathBuf,
    allow_outside_root: bool,
    /// Real paths of the directories being walked, outermost first: a
    /// directory that is its own ancestor is a symlink loop.
    ancestors: Vec<PathBuf>,
    dirs_walked: usize,
    map: HandlerMap,
    warnings: Vec<ScanWarning>,
}

impl Scanner {
    fn warn(&mut self, file: &Path, message: impl Into<String>) {
        self.warnings.push(ScanWarning::new(file, message));
    }

    fn run(&mut self, root: &Path, scan_dir: Option<&Path>) {
        self.root_real = match fs::canonicalize(root) {
            Ok(real) => real,
            Err(e) => return self.warn(root, format!("handler root cannot be used: {e}")),
        };
        let scan = match scan_dir {
            None => root.to_path_buf(),
            Some(dir) => root.join(dir), // join keeps an absolute dir as is
        };
        let scan_real = match fs::canonicalize(&scan) {
            Ok(real) => real,
            Err(e) => return self.warn(&scan, format!("scan directory cannot be used: {e}")),
        };
        // As mod_pywebsocket: refused even with allow_outside_root.
        let Ok(below_root) = scan_real.strip_prefix(&self.root_real) else {
            return self.warn(
                &scan,
                format!(
                    "scan directory is not under the handler root {}; nothing scanned",
                    root.display()
                ),
            );
        };
        // Resource names follow the path as written when it is lexically
        // under the root, else where the scan dir really is.
        let prefix = match scan.strip_prefix(root) {
            Ok(rel) if rel.components().all(|c| matches!(c, Component::Normal(_))) => rel,
            _ => below_root,
        };
        let mut segments = Vec::new();
        for part in prefix.iter() {
            match part.to_str() {
                Some(part) => segments.push(part.to_string()),
                None => return self.warn(&scan, "scan directory path is not UTF-8"),
            }
        }
        self.walk_dir(&scan, &mut segments);
    }

    /// Whether `real` may be used, warning about `path` when not.
    fn inside_root(&mut self, path: &Path, real: &Path) -> bool {
        if self.allow_outside_root || real.starts_with(&self.root_real) {
            return true;
        }
        self.warn(
            path,
            format!(
                "real path {} is outside the handler root; skipped",
                real.display()
            ),
        );
        false
    }

    /// Walks `dir`, whose resource name is `/` + `segments` joined by `/`.
    fn walk_dir(&mut self, dir: &Path, segments: &mut Vec<String>) {
        let real = match fs::canonicalize(dir) {
            Ok(real) => real,
            Err(e) => return self.warn(dir, format!("cannot resolve directory: {e}")),
        };
        if !self.inside_root(dir, &real) {
            return;
        }
        if self.ancestors.contains(&real) {
            return self.warn(
                dir,
                format!("symlink loop back to {}; skipped", real.display()),
            );
        }
        self.dirs_walked += 1;
        if self.dirs_walked > MAX_DIRS {
            return self.warn(
                dir,
                format!("more than {MAX_DIRS} directories scanned; skipped"),
            );
        }
        let mut entries = match fs::read_dir(dir) {
            Ok(list) => list.filter_map(Result::ok).collect::<Vec<_>>(),
            Err(e) => return self.warn(dir, format!("cannot read directory: {e}")),
        };
        entries.sort_by_key(|e| e.file_name());

        self.ancestors.push(real);
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let is_handler_file = name.to_string_lossy().ends_with(HANDLER_SUFFIX);
            // metadata follows symlinks: a link is judged by its target.
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    if is_handler_file {
                        self.warn(&path, format!("cannot read: {e}"));
                    }
                    continue;
                }
            };
            let Some(name) = name.to_str() else {
                if is_handler_file || meta.is_dir() {
                    self.warn(&path, "name is not UTF-8; skipped");
                }
                continue;
            };
            if meta.is_dir() {
                segments.push(name.to_string());
                self.walk_dir(&path, segments);
                segments.pop();
            } else if meta.is_file() && is_handler_file {
                let stem = &name[..name.len() - HANDLER_SUFFIX.len()];
                self.load_file(&path, segments, stem);
            }
        }
        self.ancestors.pop();
    }

    fn load_file(&mut self, path: &Path, segments: &[String], stem: &str) {
        let real = match fs::canonicalize(path) {
            Ok(real) => real,
            Err(e) => return self.warn(path, format!("cannot resolve: {e}")),
        };
        if !self.inside_root(path, &real) {
            return;
        }
        let text = match fs::read(path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => return self.warn(path, "not UTF-8; skipped"),
            Err(e) => return self.warn(path, format!("cannot read: {e}")),
        };
        let file = match parse_handler_file(&text) {
            Ok(file) => file,
            Err(e) => {
                return self.warnings.push(ScanWarning {
                    file: path.to_path_buf(),
                    line: (e.line > 0).then_some(e.line),
                    message: e.message,
                })
            }
        };
        let raw = format!("/{}", join_resource(segments, stem));
        let Some(resource) = normalize_resource(&raw) else {
            return self.warn(
                path,
                format!("resource {raw:?} can never be requested (it has '%', '\\' or a control character); skipped"),
            );
        };
        if let Some(existing) = self.map.entries.get(&resource) {
            let other = existing.file.display().to_string();
            return self.warn(
                path,
                format!("resource {resource} is already served by {other}; skipped"),
            );
        }
        let directory = path.parent().unwrap_or(Path::new(""));
        self.map.insert(HandlerEntry {
            resource,
            handler: file.handler,
            // join keeps an absolute path as it is.
            plugin: file.plugin.map(|library| directory.join(library)),
            options: file.options,
            option_lines: file.option_lines,
            file: path.to_path_buf(),
        });
    }
}

fn join_resource(segments: &[String], stem: &str) -> String {
    let mut parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    parts.push(stem);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!(
                "wscore-dispatch-{}-{nanos}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        /// Writes `rel` (creating parent directories) with `content`.
        fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, content).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn resources(map: &HandlerMap) -> Vec<&str> {
        map.iter().map(|e| e.resource.as_str()).collect()
    }

    fn messages(warnings: &[ScanWarning]) -> String {
        warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn nested_resources() {
        let root = TempDir::new();
        let echo = root.write("echo_wsh.conf", "handler = echo\n");
        let chat = root.write("example/chat_wsh.conf", "handler = chat\nroom = lobby\n");
        root.write("a/b/c/deep_wsh.conf", "handler = echo_noext\n");
        root.write("readme.txt", "not a handler");
        root.write("example/chat_wsh.conf.bak", "junk");
        fs::create_dir_all(root.path().join("empty")).unwrap();

        let (map, warnings) = HandlerMap::scan(root.path(), None, false);
        assert!(warnings.is_empty(), "{}", messages(&warnings));
        assert_eq!(resources(&map), ["/a/b/c/deep", "/echo", "/example/chat"]);
        assert_eq!(map.len(), 3);
        assert!(!map.is_empty());
        assert_eq!(
            map.lookup("/example/chat"),
            Some(&HandlerEntry {
                resource: "/example/chat".into(),
                handler: "chat".into(),
                plugin: None,
                options: vec![("room".into(), "lobby".into())],
                option_lines: vec![2],
                file: chat,
            })
        );
        assert_eq!(map.lookup("/echo").unwrap().file, echo);
        assert_eq!(map.lookup("/echo").unwrap().plugin, None);
        assert_eq!(map.lookup("/a/b/c/deep").unwrap().handler, "echo_noext");
        // Lookup normalizes; prefixes and suffixes do not match.
        assert!(map.lookup("//echo").is_some());
        assert!(map.lookup("/example//chat/").is_some());
        assert!(map.lookup("/example").is_none());
        assert!(map.lookup("/echo/more").is_none());
        assert!(map.lookup("/echo_wsh.conf").is_none());
        assert!(map.lookup("/Echo").is_none());
    }

    #[test]
    fn escape_attempts_never_resolve() {
        let root = TempDir::new();
        root.write("x_wsh.conf", "handler = echo\n");
        root.write("a/b_wsh.conf", "handler = echo\n");
        let (map, _) = HandlerMap::scan(root.path(), None, false);
        for bad in [
            "/../x",
            "/a/../x",
            "/a/./b",
            "/%2e%2e/x",
            "/%78",
            "/a\\b",
            "x",
            "",
            "/x\0",
        ] {
            assert!(map.lookup(bad).is_none(), "{bad:?}");
        }
        assert!(map.lookup("//x").is_some());
        assert!(map.lookup("/a//b/").is_some());
    }

    #[test]
    fn scan_dir_limits_the_walk() {
        let root = TempDir::new();
        root.write("echo_wsh.conf", "handler = echo\n");
        root.write("example/chat_wsh.conf", "handler = chat\n");
        root.write("example/sub/x_wsh.conf", "handler = x\n");

        let (map, warnings) = HandlerMap::scan(root.path(), Some(Path::new("example")), false);
        assert!(warnings.is_empty(), "{}", messages(&warnings));
        assert_eq!(resources(&map), ["/example/chat", "/example/sub/x"]);

        let absolute = root.path().join("example/sub");
        let (map, warnings) = HandlerMap::scan(root.path(), Some(&absolute), false);
        assert!(warnings.is_empty(), "{}", messages(&warnings));
        assert_eq!(resources(&map), ["/example/sub/x"]);

        // "./example" and "example/../example" still name example/.
        for spelled in ["./example", "example/sub/.."] {
            let (map, warnings) = HandlerMap::scan(root.path(), Some(Path::new(spelled)), false);
            assert!(warnings.is_empty(), "{}", messages(&warnings));
            assert_eq!(
                resources(&map),
                ["/example/chat", "/example/sub/x"],
                "{spelled}"
            );
        }
    }

    #[test]
    fn scan_dir_outside_root_is_refused() {
        let base = TempDir::new();
        base.write("root/echo_wsh.conf", "handler = echo\n");
        base.write("elsewhere/evil_wsh.conf", "handler = echo\n");
        let root = base.path().join("root");
        for scan in [base.path().join("elsewhere"), PathBuf::from("../elsewhere")] {
            // Even when handlers outside the root are allowed.
            for allow in [false, true] {
                let (map, warnings) = HandlerMap::scan(&root, Some(&scan), allow);
                assert!(map.is_empty());
                assert_eq!(warnings.len(), 1);
                assert!(
                    warnings[0].message.contains("not under the handler root"),
                    "{}",
                    warnings[0]
                );
            }
        }
    }

    #[test]
    fn missing_scan_dir_warns() {
        let root = TempDir::new();
        let (map, warnings) = HandlerMap::scan(root.path(), Some(Path::new("nope")), false);
        assert!(map.is_empty());
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].file, root.path().join("nope"));
    }

    #[test]
    fn missing_root_is_one_warning() {
        let root = TempDir::new();
        let gone = root.path().join("does-not-exist");
        let (map, warnings) = HandlerMap::scan(&gone, None, false);
        assert!(map.is_empty());
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].file, gone);
        assert_eq!(warnings[0].line, None);
        assert!(warnings[0]
            .message
            .starts_with("handler root cannot be used"));
    }

    #[test]
    fn bad_files_warn_and_the_rest_load() {
        let root = TempDir::new();
        root.write("a_wsh.conf", "handler = a\n");
        let b = root.write("b_wsh.conf", "handler = b\nno equals here\n");
        root.write("c_wsh.conf", "handler = c\n");
        let d = root.write("d_wsh.conf", [b'h', 0xff, b'\n']);
        let e = root.write("sub/e_wsh.conf", "# no handler\nk = v\n");
        root.write("sub/f_wsh.conf", "handler = f\n");

        let (map, warnings) = HandlerMap::scan(root.path(), None, false);
        assert_eq!(resources(&map), ["/a", "/c", "/sub/f"]);
        assert_eq!(warnings.len(), 3, "{}", messages(&warnings));

        assert_eq!(warnings[0].file, b);
        assert_eq!(warnings[0].line, Some(2));
        assert_eq!(
            warnings[0].to_string(),
            format!(
                "{}:2: expected `key = value`, found \"no equals here\"",
                b.display()
            )
        );
        assert_eq!(warnings[1].file, d);
        assert_eq!(
            warnings[1].to_string(),
            format!("{}: not UTF-8; skipped", d.display())
        );
        assert_eq!(warnings[2].file, e);
        assert_eq!(warnings[2].line, None);
        assert_eq!(warnings[2].message, "no `handler = NAME` line");
    }

    #[test]
    fn unrequestable_names_and_collisions_warn() {
        let root = TempDir::new();
        let pct = root.write("a%2fb_wsh.conf", "handler = h\n");
        root.write("dir/_wsh.conf", "handler = first\n");
        let second = root.write("dir_wsh.conf", "handler = second\n");
        root.write("_wsh.conf", "handler = top\n");

        let (map, warnings) = HandlerMap::scan(root.path(), None, false);
        assert_eq!(resources(&map), ["/", "/dir"]);
        assert_eq!(map.lookup("/").unwrap().handler, "top");
        assert_eq!(map.lookup("/dir/").unwrap().handler, "first");
        assert_eq!(warnings.len(), 2, "{}", messages(&warnings));
        assert_eq!(warnings[0].file, pct);
        assert!(warnings[0].message.contains("can never be requested"));
        assert_eq!(warnings[1].file, second);
        assert!(warnings[1].message.contains("already served by"));
    }

    #[test]
    fn deterministic_order() {
        let root = TempDir::new();
        for name in ["z", "m", "a", "q"] {
            root.write(&format!("{name}/bad_wsh.conf"), "oops\n");
        }
        let (_, first) = HandlerMap::scan(root.path(), None, false);
        let (_, second) = HandlerMap::scan(root.path(), None, false);
        assert_eq!(first, second);
        let files: Vec<_> = first.iter().map(|w| w.file.clone()).collect();
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
    }

    #[cfg(unix)]
    mod symlinks {
        use super::*;
        use std::os::unix::fs::symlink;

        #[test]
        fn file_link_out_of_root_skipped_unless_allowed() {
            let base = TempDir::new();
            base.write("root/echo_wsh.conf", "handler = echo\n");
            let outside = base.write("outside/x_wsh.conf", "handler = evil\n");
            let root = base.path().join("root");
            let link = root.join("link_wsh.conf");
            symlink(&outside, &link).unwrap();

            let (map, warnings) = HandlerMap::scan(&root, None, false);
            assert_eq!(resources(&map), ["/echo"]);
            assert_eq!(warnings.len(), 1, "{}", messages(&warnings));
            assert_eq!(warnings[0].file, link);
            assert!(warnings[0].message.contains("outside the handler root"));

            let (map, warnings) = HandlerMap::scan(&root, None, true);
            assert!(warnings.is_empty(), "{}", messages(&warnings));
            assert_eq!(resources(&map), ["/echo", "/link"]);
            assert_eq!(map.lookup("/link").unwrap().handler, "evil");
        }

        #[test]
        fn dir_link_out_of_root_skipped_unless_allowed() {
            let base = TempDir::new();
            base.write("root/echo_wsh.conf", "handler = echo\n");
            base.write("outside/x_wsh.conf", "handler = ext\n");
            let root = base.path().join("root");
            symlink(base.path().join("outside"), root.join("ext")).unwrap();

            let (map, warnings) = HandlerMap::scan(&root, None, false);
            assert_eq!(resources(&map), ["/echo"]);
            assert_eq!(warnings.len(), 1, "{}", messages(&warnings));
            assert_eq!(warnings[0].file, root.join("ext"));

            let (map, warnings) = HandlerMap::scan(&root, None, true);
            assert!(warnings.is_empty(), "{}", messages(&warnings));
            assert_eq!(resources(&map), ["/echo", "/ext/x"]);
        }

        #[test]
        fn links_inside_root_are_followed() {
            let root = TempDir::new();
            root.write("example/chat_wsh.conf", "handler = chat\n");
            symlink(root.path().join("example"), root.path().join("alias")).unwrap();
            symlink(
                root.path().join("example/chat_wsh.conf"),
                root.path().join("talk_wsh.conf"),
            )
            .unwrap();
            let (map, warnings) = HandlerMap::scan(root.path(), None, false);
            assert!(warnings.is_empty(), "{}", messages(&warnings));
            assert_eq!(resources(&map), ["/alias/chat", "/example/chat", "/talk"]);
        }

        #[test]
        fn root_itself_may_be_a_link() {
            let base = TempDir::new();
            base.write("real/echo_wsh.conf", "handler = echo\n");
            let root = base.path().join("root");
            symlink(base.path().join("real"), &root).unwrap();
            let (map, warnings) = HandlerMap::scan(&root, None, false);
            assert!(warnings.is_empty(), "{}", messages(&warnings));
            assert_eq!(
                map.lookup("/echo").unwrap().file,
                root.join("echo_wsh.conf")
            );
        }

        #[test]
        fn symlink_loops_terminate_with_a_warning() {
            let root = TempDir::new();
            root.write("d/x_wsh.conf", "handler = x\n");
            symlink(root.path().join("d"), root.path().join("d/self")).unwrap();
            symlink(root.path(), root.path().join("d/up")).unwrap();

            for allow in [false, true] {
                let (map, warnings) = HandlerMap::scan(root.path(), None, allow);
                assert_eq!(resources(&map), ["/d/x"]);
                assert_eq!(warnings.len(), 2, "{}", messages(&warnings));
                assert!(warnings.iter().all(|w| w.message.contains("symlink loop")));
                assert_eq!(warnings[0].file, root.path().join("d/self"));
                assert_eq!(warnings[1].file, root.path().join("d/up"));
            }
        }

        #[test]
        fn dangling_handler_link_warns() {
            let root = TempDir::new();
            root.write("ok_wsh.conf", "handler = ok\n");
            let link = root.path().join("gone_wsh.conf");
            symlink(root.path().join("missing"), &link).unwrap();
            symlink(root.path().join("missing"), root.path().join("other")).unwrap();
            let (map, warnings) = HandlerMap::scan(root.path(), None, false);
            assert_eq!(resources(&map), ["/ok"]);
            assert_eq!(warnings.len(), 1, "{}", messages(&warnings));
            assert_eq!(warnings[0].file, link);
        }
    }

    #[test]
    fn options_are_checked_by_their_handler_with_file_and_line() {
        struct OnlyColor;
        impl Handler for OnlyColor {
            fn transfer_data(
                &self,
                _ws: &mut crate::websocket::WebSocket<'_>,
            ) -> Result<(), crate::error::WsError> {
                Ok(())
            }
            fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
                match (key, value) {
                    ("color", "red" | "blue") => Ok(()),
                    ("color", other) => Err(format!("color '{other}' is not red or blue")),
                    _ => Err(format!("unknown option '{key}'")),
                }
            }
        }
        let root = TempDir::new();
        let a = root.write("a_wsh.conf", "handler = color\ncolor = red\n");
        let b = root.write(
            "b_wsh.conf",
            "# b\nhandler = color\ncolor = green\nsize = 2\n",
        );
        root.write("c_wsh.conf", "handler = other\nanything = 1\n");
        let (map, warnings) = HandlerMap::scan(root.path(), None, false);
        assert!(warnings.is_empty(), "{}", messages(&warnings));
        let find =
            |entry: &HandlerEntry| (entry.handler == "color").then_some(&OnlyColor as &dyn Handler);
        let warnings = map.check_options(find);
        assert_eq!(
            messages(&warnings),
            format!(
                "{b}:3: color 'green' is not red or blue (handler 'color')\n\
                 {b}:4: unknown option 'size' (handler 'color')",
                b = b.display()
            )
        );
        assert!(!messages(&warnings).contains(&a.display().to_string()));
    }

    #[test]
    fn a_relative_plugin_path_is_taken_from_the_handler_file_directory() {
        let root = TempDir::new();
        root.write(
            "app/chat_wsh.conf",
            "handler = chat\nplugin = lib/libchat.so\n",
        );
        root.write("abs_wsh.conf", "handler = x\nplugin = /usr/lib/libx.so\n");
        let (map, warnings) = HandlerMap::scan(root.path(), None, false);
        assert!(warnings.is_empty(), "{}", messages(&warnings));
        let chat = map.lookup("/app/chat").unwrap();
        assert_eq!(chat.plugin, Some(root.path().join("app/lib/libchat.so")));
        assert!(chat.options.is_empty());
        let abs = map.lookup("/abs").unwrap();
        assert_eq!(abs.plugin, Some(PathBuf::from("/usr/lib/libx.so")));
    }

    #[test]
    fn insert_normalizes_and_replaces() {
        let mut map = HandlerMap::default();
        assert!(map.is_empty());
        let entry = |resource: &str, handler: &str| HandlerEntry {
            resource: resource.into(),
            handler: handler.into(),
            plugin: None,
            options: vec![],
            option_lines: vec![],
            file: PathBuf::new(),
        };
        map.insert(entry("/loc//echo/", "echo"));
        assert_eq!(map.lookup("/loc/echo").unwrap().resource, "/loc/echo");
        map.insert(entry("/loc/echo", "other"));
        assert_eq!(map.len(), 1);
        assert_eq!(map.lookup("/loc/echo").unwrap().handler, "other");
        // Kept, but unreachable.
        map.insert(entry("/../x", "bad"));
        assert_eq!(map.len(), 2);
        assert!(map.lookup("/../x").is_none());
        assert!(map.lookup("/x").is_none());
    }

    #[test]
    fn normalize_accepts_and_cleans() {
        for (input, want) in [
            ("/", "/"),
            ("//", "/"),
            ("/echo", "/echo"),
            ("/echo/", "/echo"),
            ("//echo", "/echo"),
            ("/a//b///c/", "/a/b/c"),
            ("/a.b/..c/c..", "/a.b/..c/c.."),
            ("/.hidden", "/.hidden"),
            ("/sp ace/ü", "/sp ace/ü"),
            ("/a?b", "/a?b"),
        ] {
            assert_eq!(
                normalize_resource(input).as_deref(),
                Some(want),
                "{input:?}"
            );
        }
    }

    #[test]
    fn normalize_rejects_escapes() {
        for bad in [
            "",
            "echo",
            "./echo",
            "/..",
            "/../x",
            "/a/../../x",
            "/a/./b",
            "/.",
            "/a/.",
            "/a/..",
            "/%2e%2e/x",
            "/%2F",
            "/100%",
            "/a\\..\\b",
            "\\echo",
            "/a\0b",
            "/a\nb",
            "/a\rb",
            "/a\x7fb",
        ] {
            assert_eq!(normalize_resource(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn warning_display() {
        let w = ScanWarning {
            file: PathBuf::from("/r/a_wsh.conf"),
            line: Some(3),
            message: "bad".into(),
        };
        assert_eq!(w.to_string(), "/r/a_wsh.conf:3: bad");
        let w = ScanWarning::new(Path::new("/r/b_wsh.conf"), "gone");
        assert_eq!(w.to_string(), "/r/b_wsh.conf: gone");
    }
}
