//! `server_rec`: the main server and its virtual hosts.
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Duration;

use super::ffi;
use super::module_config::{module_slot, ServerConfigType};

/// A server of the configuration being loaded or served; `'s` is the life
/// of the configuration pool that holds it.
#[derive(Clone, Copy)]
pub struct Server<'s> {
    raw: NonNull<ffi::server_rec>,
    _lives: PhantomData<&'s ffi::server_rec>,
}

impl<'s> Server<'s> {
    /// # Safety
    /// `raw` must be NULL or a live server_rec whose configuration outlives `'s`.
    pub(super) unsafe fn from_raw(raw: *mut ffi::server_rec) -> Option<Server<'s>> {
        NonNull::new(raw).map(|raw| Server {
            raw,
            _lives: PhantomData,
        })
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::server_rec {
        self.raw.as_ptr()
    }

    fn rec(&self) -> &'s ffi::server_rec {
        // SAFETY: live for 's (see from_raw); Apache changes no field we read
        // once the configuration is loaded.
        unsafe { self.raw.as_ref() }
    }

    /// The next virtual host in Apache's list (the main server is first).
    pub fn next(&self) -> Option<Server<'s>> {
        // SAFETY: the list's servers belong to the same configuration.
        unsafe { Server::from_raw(self.rec().next) }
    }

    /// Whether this is a `<VirtualHost>` (not the main server).
    pub fn is_virtual(&self) -> bool {
        self.rec().is_virtual != 0
    }

    /// The core `Timeout` of this server.
    pub fn timeout(&self) -> Duration {
        Duration::from_micros(self.rec().timeout as u64)
    }

    /// Whether this server sets `KeepAliveTimeout` itself (rather than
    /// inheriting it): the event MPM then applies its own `Timeout` to
    /// connections parked for its requests.
    pub fn sets_keep_alive_timeout(&self) -> bool {
        self.rec().keep_alive_timeout_set() != 0
    }

    /// This module's configuration of the server.
    pub fn config<T: ServerConfigType>(&self) -> &'s T {
        // SAFETY: see config_slot; nothing changes it once the server runs.
        unsafe { &*self.config_slot::<T>() }
    }

    /// Our slot of the server's config vector: create/merge_server_config::<T>
    /// put a T there, which lives as long as the configuration pool.
    pub(super) fn config_slot<T: ServerConfigType>(&self) -> *mut T {
        // SAFETY: module_config is the live server's config vector.
        unsafe { module_slot(self.rec().module_config).cast::<T>() }
    }
}
