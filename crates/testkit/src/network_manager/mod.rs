//! A NetworkManager test double at the hardware boundary: the D-Bus
//! objects of NetworkManager that the SDK's `Wifi` uses
//! (`org.freedesktop.NetworkManager`, `.Device`, `.Device.Wireless`,
//! `.AccessPoint`, `.Settings`, `.Settings.Connection`), served on a
//! private `dbus-daemon` bus started for the test ([`PrivateBus`]).
//!
//! It holds one Wi-Fi device (`wlan0`) and a set of access points, each
//! with its SSID, BSSID, strength and key. Activations move the device
//! through NetworkManager's states (prepare, config, ip-config, activated;
//! or failed with `NO_SECRETS` for a wrong key) and emit `StateChanged`.
//! A test can take an access point away (the device drops to disconnected
//! with `SUPPLICANT_DISCONNECT` when it was joined), bring one back, change
//! a strength, make activations slow, remove the Wi-Fi device, or run a bus
//! where NetworkManager is missing.

mod bus;
mod objects;
mod world;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use zbus::Connection;

pub use bus::PrivateBus;
use world::{DEVICE_PATH, MANAGER_PATH, SETTINGS_PATH, SharedWorld, World, ap_path, connection_path, lock};
pub use world::{
    REASON_NO_SECRETS, REASON_SSID_NOT_FOUND, REASON_SUPPLICANT_DISCONNECT, REASON_USER_REQUESTED, STATE_ACTIVATED,
    STATE_DISCONNECTED, STATE_FAILED,
};

/// An access point in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPointConfig {
    /// Its SSID.
    pub ssid: String,
    /// Its BSSID (`02:00:00:00:00:01`).
    pub bssid: String,
    /// Its signal strength, 0-100.
    pub strength: u8,
    /// Its WPA key; `None` for an open network.
    pub psk: Option<String>,
}

impl AccessPointConfig {
    /// A WPA-PSK access point.
    pub fn new(ssid: &str, bssid: &str, strength: u8, psk: &str) -> Self {
        Self {
            ssid: ssid.into(),
            bssid: bssid.into(),
            strength,
            psk: Some(psk.into()),
        }
    }
}

fn io(e: zbus::Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// A simulated NetworkManager on a private bus; the bus stops when dropped.
#[derive(Debug)]
pub struct NetworkManagerSimulator {
    // Dropped first: the service's connection, then the bus.
    service: Option<Connection>,
    world: SharedWorld,
    bus: PrivateBus,
}

impl NetworkManagerSimulator {
    /// NetworkManager with a Wi-Fi device (disconnected) and these access
    /// points in range. Needs a tokio runtime.
    pub async fn start(access_points: Vec<AccessPointConfig>) -> std::io::Result<Self> {
        let bus = PrivateBus::start()?;
        let world: SharedWorld = Arc::new(Mutex::new(World {
            device_present: true,
            state: STATE_DISCONNECTED,
            ..World::default()
        }));
        let service = zbus::connection::Builder::address(bus.address())
            .name("org.freedesktop.NetworkManager")
            .serve_at(MANAGER_PATH, objects::Manager { world: world.clone() })
            .serve_at(DEVICE_PATH, objects::WifiDevice { world: world.clone() })
            .serve_at(DEVICE_PATH, objects::Wireless { world: world.clone() })
            .serve_at(SETTINGS_PATH, objects::Settings { world: world.clone() })
            .build()
            .await
            .map_err(io)?;
        let nm = Self {
            service: Some(service),
            world,
            bus,
        };
        for ap in access_points {
            nm.add_access_point(ap).await?;
        }
        Ok(nm)
    }

    /// A private bus on which nothing owns `org.freedesktop.NetworkManager`.
    pub fn start_without_network_manager() -> std::io::Result<Self> {
        Ok(Self {
            service: None,
            world: Arc::default(),
            bus: PrivateBus::start()?,
        })
    }

    /// The bus address to give the SDK (`WifiOptions::dbus_address`).
    pub fn address(&self) -> &str {
        self.bus.address()
    }

    fn service(&self) -> std::io::Result<&Connection> {
        self.service
            .as_ref()
            .ok_or_else(|| std::io::Error::other("this bus has no NetworkManager"))
    }

    /// An access point comes into range.
    pub async fn add_access_point(&self, ap: AccessPointConfig) -> std::io::Result<()> {
        let service = self.service()?;
        let id = {
            let mut w = lock(&self.world);
            let id = w.next_id();
            w.aps.push(world::Ap { id, config: ap });
            id
        };
        service
            .object_server()
            .at(
                ap_path(id),
                objects::AccessPoint {
                    world: self.world.clone(),
                    id,
                },
            )
            .await
            .map_err(io)?;
        Ok(())
    }

    /// The access point with `ssid` goes out of range; when it was joined,
    /// the device drops to disconnected (`SUPPLICANT_DISCONNECT`).
    pub async fn remove_access_point(&self, ssid: &str) -> std::io::Result<()> {
        let service = self.service()?;
        let (removed, was_joined) = {
            let mut w = lock(&self.world);
            let Some(index) = w.aps.iter().position(|ap| ap.config.ssid == ssid) else {
                return Ok(());
            };
            let ap = w.aps.remove(index);
            (ap.id, w.active_ap == Some(ap.id))
        };
        if was_joined {
            world::drop_connection(service, &self.world, world::REASON_SUPPLICANT_DISCONNECT).await;
        }
        service
            .object_server()
            .remove::<objects::AccessPoint, _>(ap_path(removed))
            .await
            .map_err(io)?;
        Ok(())
    }

    /// Changes the strength of the access points with `ssid`.
    pub fn set_strength(&self, ssid: &str, strength: u8) {
        for ap in lock(&self.world).aps.iter_mut().filter(|ap| ap.config.ssid == ssid) {
            ap.config.strength = strength;
        }
    }

    /// Activations take this long (between config and the outcome) from now on.
    pub fn set_activation_delay(&self, delay: Duration) {
        lock(&self.world).activation_delay = delay;
    }

    /// Saves a connection for `ssid` with `psk`, as if configured earlier.
    pub async fn save_connection(&self, ssid: &str, psk: Option<&str>) -> std::io::Result<()> {
        let service = self.service()?;
        let id = {
            let mut w = lock(&self.world);
            let id = w.next_id();
            w.saved.push(world::Saved {
                id,
                ssid: ssid.as_bytes().to_vec(),
                psk: psk.map(str::to_owned),
                settings: objects::wifi_settings(ssid, psk.is_some()),
            });
            id
        };
        service
            .object_server()
            .at(
                connection_path(id),
                objects::SettingsConnection {
                    world: self.world.clone(),
                    id,
                },
            )
            .await
            .map_err(io)?;
        Ok(())
    }

    /// The Wi-Fi device disappears (unplugged): no device is listed any more.
    pub async fn remove_wifi_device(&self) -> std::io::Result<()> {
        let service = self.service()?;
        {
            let mut w = lock(&self.world);
            w.device_present = false;
            w.generation += 1;
            w.active_ap = None;
            w.state = STATE_DISCONNECTED;
        }
        let server = service.object_server();
        server.remove::<objects::WifiDevice, _>(DEVICE_PATH).await.map_err(io)?;
        server.remove::<objects::Wireless, _>(DEVICE_PATH).await.map_err(io)?;
        Ok(())
    }

    /// The device's `NMDeviceState` now.
    pub fn device_state(&self) -> u32 {
        lock(&self.world).state
    }

    /// How many connections are saved.
    pub fn saved_connections(&self) -> usize {
        lock(&self.world).saved.len()
    }

    /// The methods called so far, by D-Bus name, in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.world).calls.clone()
    }
}

impl Drop for NetworkManagerSimulator {
    fn drop(&mut self) {
        // The service's connection goes before its bus does.
        self.service.take();
    }
}
