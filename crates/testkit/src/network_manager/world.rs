//! What the simulated NetworkManager knows, and how its Wi-Fi device moves
//! between states (emitting `StateChanged` as NetworkManager does).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zbus::object_server::SignalEmitter;
use zbus::{Connection, OwnedVariant};

use super::AccessPointConfig;
use super::objects::WifiDevice;

/// Where NetworkManager's objects are.
pub(crate) const MANAGER_PATH: &str = "/org/freedesktop/NetworkManager";
pub(crate) const DEVICE_PATH: &str = "/org/freedesktop/NetworkManager/Devices/1";
pub(crate) const SETTINGS_PATH: &str = "/org/freedesktop/NetworkManager/Settings";

pub(crate) fn ap_path(id: u32) -> String {
    format!("/org/freedesktop/NetworkManager/AccessPoint/{id}")
}

pub(crate) fn connection_path(id: u32) -> String {
    format!("/org/freedesktop/NetworkManager/Settings/{id}")
}

/// `NMDeviceState` values used here.
pub const STATE_DISCONNECTED: u32 = 30;
const STATE_PREPARE: u32 = 40;
const STATE_CONFIG: u32 = 50;
const STATE_IP_CONFIG: u32 = 70;
/// Activated.
pub const STATE_ACTIVATED: u32 = 100;
/// Failed.
pub const STATE_FAILED: u32 = 120;

/// `NMDeviceStateReason` values used here.
pub const REASON_NO_SECRETS: u32 = 7;
/// The supplicant lost the access point.
pub const REASON_SUPPLICANT_DISCONNECT: u32 = 8;
/// Asked for by the user.
pub const REASON_USER_REQUESTED: u32 = 39;
/// The SSID is not around.
pub const REASON_SSID_NOT_FOUND: u32 = 53;

#[derive(Debug, Clone)]
pub(crate) struct Ap {
    pub id: u32,
    pub config: AccessPointConfig,
}

/// A saved connection: its settings as `GetSettings` shows them (no
/// secrets), and the key kept aside.
#[derive(Debug)]
pub(crate) struct Saved {
    pub id: u32,
    pub ssid: Vec<u8>,
    pub psk: Option<String>,
    pub settings: HashMap<String, HashMap<String, OwnedVariant>>,
}

#[derive(Debug, Default)]
pub(crate) struct World {
    pub aps: Vec<Ap>,
    pub next_id: u32,
    pub device_present: bool,
    pub state: u32,
    pub reason: u32,
    pub active_ap: Option<u32>,
    /// Bumped by each activation and disconnection: a superseded
    /// activation stops.
    pub generation: u64,
    pub saved: Vec<Saved>,
    pub activation_delay: Duration,
    /// Every method called, by name, in order.
    pub calls: Vec<String>,
}

pub(crate) type SharedWorld = Arc<Mutex<World>>;

pub(crate) fn lock(world: &SharedWorld) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|p| p.into_inner())
}

impl World {
    pub(crate) fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn ap_by_ssid(&self, ssid: &[u8]) -> Option<&Ap> {
        self.aps.iter().find(|ap| ap.config.ssid.as_bytes() == ssid)
    }
}

/// Moves the device to `new` (when `generation` is still current, if
/// given) and emits `StateChanged`. False when superseded.
pub(crate) async fn set_state(
    conn: &Connection,
    world: &SharedWorld,
    generation: Option<u64>,
    new: u32,
    reason: u32,
) -> bool {
    let old = {
        let mut w = lock(world);
        if generation.is_some_and(|g| g != w.generation) || !w.device_present {
            return false;
        }
        let old = w.state;
        w.state = new;
        w.reason = reason;
        if new != STATE_ACTIVATED {
            w.active_ap = None;
        }
        old
    };
    if let Ok(emitter) = SignalEmitter::new(conn, DEVICE_PATH) {
        let _ = WifiDevice::device_state_changed(&emitter, new, old, reason).await;
    }
    true
}

/// An activation of `ssid` with `psk`, as NetworkManager runs it:
/// prepare, config, (the activation delay), then activated on the access
/// point, or failed (wrong key: `NO_SECRETS`; no such SSID:
/// `SSID_NOT_FOUND`) and disconnected.
pub(crate) async fn activate(conn: Connection, world: SharedWorld, ssid: Vec<u8>, psk: Option<String>) {
    let generation = {
        let mut w = lock(&world);
        w.generation += 1;
        w.generation
    };
    let g = Some(generation);
    if !set_state(&conn, &world, g, STATE_PREPARE, 0).await || !set_state(&conn, &world, g, STATE_CONFIG, 0).await {
        return;
    }
    let delay = lock(&world).activation_delay;
    tokio::time::sleep(delay).await;
    let outcome = {
        let w = lock(&world);
        match w.ap_by_ssid(&ssid) {
            None => Err(REASON_SSID_NOT_FOUND),
            Some(ap) if ap.config.psk.is_some() && ap.config.psk != psk => Err(REASON_NO_SECRETS),
            Some(ap) => Ok(ap.id),
        }
    };
    match outcome {
        Ok(id) => {
            if !set_state(&conn, &world, g, STATE_IP_CONFIG, 0).await {
                return;
            }
            {
                let mut w = lock(&world);
                if w.generation != generation {
                    return;
                }
                w.active_ap = Some(id);
                w.state = STATE_ACTIVATED;
                w.reason = 0;
            }
            // Emit with the state already set (and the access point recorded).
            let old = STATE_IP_CONFIG;
            if let Ok(emitter) = SignalEmitter::new(&conn, DEVICE_PATH) {
                let _ = WifiDevice::device_state_changed(&emitter, STATE_ACTIVATED, old, 0).await;
            }
        }
        Err(reason) => {
            if set_state(&conn, &world, g, STATE_FAILED, reason).await {
                set_state(&conn, &world, g, STATE_DISCONNECTED, reason).await;
            }
        }
    }
}

/// Ends whatever the device is doing: disconnected with `reason`.
pub(crate) async fn drop_connection(conn: &Connection, world: &SharedWorld, reason: u32) {
    {
        let mut w = lock(world);
        w.generation += 1;
        if w.state == STATE_DISCONNECTED {
            return;
        }
    }
    set_state(conn, world, None, STATE_DISCONNECTED, reason).await;
}
