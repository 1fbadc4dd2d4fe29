//! Per-server and per-directory configuration: created and merged by Apache
//! in its config pools, immutable once the server runs.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use wscore::dispatch::{HandlerEntry, HandlerMap};
use wscore::extensions::CompressionSettings;
use wscore::handler::Handler;
use wscore::origin::OriginPolicy;
use wscore::protocol::ProtocolConfig;

use crate::apache::module_config::{DirConfigType, MergeConfig, ServerConfigType};

/// Server (and virtual host) settings. `None` means "not set here", so a
/// virtual host inherits what the main server says.
#[derive(Default)]
pub struct ServerConfig {
    pub handler_root: Option<PathBuf>,
    pub handler_scan: Option<PathBuf>,
    pub allow_outside_root: Option<bool>,
    pub allow_draft75: Option<bool>,
    /// `WebSocketMaxConnections`: per Apache child; 0 is no limit.
    pub max_connections: Option<u64>,
    /// `WebSocketDriver threaded|event`.
    pub driver: Option<Driver>,
    /// `WebSocketBroker URL`, checked; main server only (virtual hosts inherit it).
    pub broker: Option<String>,
    /// The handler files found under the root, scanned in check_config.
    pub handlers: OnceLock<Handlers>,
    /// `WebSocketHandler` lines in this server's `<Location>` sections, as
    /// (handler, "file:line"); not inherited, so each is listed once.
    pub location_handlers: Vec<(String, String)>,
}

/// The handler files of a server, with the handler serving each.
#[derive(Default, Clone)]
pub struct Handlers {
    pub files: HandlerMap,
    /// Resource → its handler (compiled in, or from a plugin), for each
    /// file whose handler exists.
    pub resolved: HashMap<String, &'static dyn Handler>,
}

impl Handlers {
    /// The handler file serving the request path `resource`, and its handler.
    pub fn lookup(&self, resource: &str) -> Option<(&HandlerEntry, &'static dyn Handler)> {
        let entry = self.files.lookup(resource)?;
        Some((entry, *self.resolved.get(&entry.resource)?))
    }
}

impl ServerConfig {
    pub fn allow_outside_root(&self) -> bool {
        self.allow_outside_root.unwrap_or(false)
    }

    /// `Event` unless configured: where the MPM cannot park a connection,
    /// the upgrade falls back to the threaded driver by itself.
    pub fn driver(&self) -> Driver {
        self.driver.unwrap_or(Driver::Event)
    }
}

/// Which driver serves event-style handlers (`WebSocketDriver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// A worker thread per connection, for its whole life.
    Threaded,
    /// Idle connections parked in the event MPM.
    Event,
}

/// `<Location>` / `<Directory>` settings.
#[derive(Default, Clone)]
pub struct DirConfig {
    /// `WebSocketHandler NAME`: serve this location with a compiled-in handler.
    pub handler: Option<String>,
    /// `WebSocketMaxMessageSize`; set at server level it is inherited by
    /// every location through Apache's per-dir merge.
    pub max_message_size: Option<u64>,
    /// `WebSocketMaxFramesPerMessage`.
    pub max_frames_per_message: Option<u64>,
    /// `WebSocketIdleTimeout`; `Some(None)` is "set to 0: off".
    pub idle_timeout: Option<Option<Duration>>,
    /// `WebSocketPingInterval`; `Some(None)` is "set to 0: off".
    pub ping_interval: Option<Option<Duration>>,
    /// `WebSocketOriginCheck`.
    pub origin_check: Option<OriginCheck>,
    /// `WebSocketTrustedOrigin` lines of this section, in order.
    pub trusted_origins: Option<Vec<String>>,
    /// `WebSocketCompression On|Off`.
    pub compression: Option<bool>,
    /// `WebSocketCompressionMaxWindowBits 8-15`.
    pub compression_max_window_bits: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginCheck {
    Off,
    Same,
    Trusted,
}

/// `WebSocketIdleTimeout` when not set.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

impl DirConfig {
    /// The framing limits for a connection of this location.
    pub fn protocol_config(&self) -> ProtocolConfig {
        let defaults = ProtocolConfig::default();
        ProtocolConfig {
            max_message_size: self.max_message_size.unwrap_or(defaults.max_message_size),
            max_frames_per_message: self
                .max_frames_per_message
                .unwrap_or(defaults.max_frames_per_message),
            compression: None,
        }
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout.unwrap_or(Some(DEFAULT_IDLE_TIMEOUT))
    }

    /// Off unless configured.
    pub fn ping_interval(&self) -> Option<Duration> {
        self.ping_interval.flatten()
    }

    /// `Same` unless configured.
    pub fn origin_policy(&self) -> OriginPolicy {
        match self.origin_check.unwrap_or(OriginCheck::Same) {
            OriginCheck::Off => OriginPolicy::Off,
            OriginCheck::Same => OriginPolicy::Same,
            OriginCheck::Trusted => {
                OriginPolicy::Trusted(self.trusted_origins.clone().unwrap_or_default())
            }
        }
    }

    pub fn compression_settings(&self) -> CompressionSettings {
        let default = CompressionSettings::default();
        CompressionSettings {
            enabled: self.compression.unwrap_or(default.enabled),
            max_window_bits: self
                .compression_max_window_bits
                .unwrap_or(default.max_window_bits),
        }
    }
}

fn or_inherit<T: Clone>(overriding: &Option<T>, base: &Option<T>) -> Option<T> {
    overriding.clone().or_else(|| base.clone())
}

impl MergeConfig for ServerConfig {
    fn merge(base: &Self, new: &Self) -> Self {
        ServerConfig {
            handler_root: or_inherit(&new.handler_root, &base.handler_root),
            handler_scan: or_inherit(&new.handler_scan, &base.handler_scan),
            allow_outside_root: or_inherit(&new.allow_outside_root, &base.allow_outside_root),
            allow_draft75: or_inherit(&new.allow_draft75, &base.allow_draft75),
            max_connections: or_inherit(&new.max_connections, &base.max_connections),
            driver: or_inherit(&new.driver, &base.driver),
            broker: or_inherit(&new.broker, &base.broker),
            handlers: OnceLock::new(),
            location_handlers: new.location_handlers.clone(),
        }
    }
}

impl ServerConfigType for ServerConfig {}

impl MergeConfig for DirConfig {
    fn merge(base: &Self, new: &Self) -> Self {
        DirConfig {
            handler: or_inherit(&new.handler, &base.handler),
            max_message_size: or_inherit(&new.max_message_size, &base.max_message_size),
            max_frames_per_message: or_inherit(
                &new.max_frames_per_message,
                &base.max_frames_per_message,
            ),
            idle_timeout: or_inherit(&new.idle_timeout, &base.idle_timeout),
            ping_interval: or_inherit(&new.ping_interval, &base.ping_interval),
            origin_check: or_inherit(&new.origin_check, &base.origin_check),
            trusted_origins: or_inherit(&new.trusted_origins, &base.trusted_origins),
            compression: or_inherit(&new.compression, &base.compression),
            compression_max_window_bits: or_inherit(
                &new.compression_max_window_bits,
                &base.compression_max_window_bits,
            ),
        }
    }
}

impl DirConfigType for DirConfig {}
