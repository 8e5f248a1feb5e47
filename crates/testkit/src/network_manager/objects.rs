//! The NetworkManager D-Bus objects the SDK talks to, exactly the
//! interfaces, methods and properties it uses (names and signatures as in
//! NetworkManager's D-Bus API).

use std::collections::HashMap;

use zbus::object_server::SignalEmitter;
use zbus::{Connection, ObjectPath, ObjectServer, OwnedObjectPath, OwnedVariant, Variant, fdo, interface};

use super::world::{self, DEVICE_PATH, REASON_USER_REQUESTED, Saved, SharedWorld, ap_path, connection_path, lock};

fn path(p: String) -> OwnedObjectPath {
    OwnedObjectPath::try_from(p).unwrap_or_else(|_| OwnedObjectPath::from(ObjectPath::from_static_str_unchecked("/")))
}

/// `org.freedesktop.NetworkManager` at `/org/freedesktop/NetworkManager`.
pub(crate) struct Manager {
    pub world: SharedWorld,
}

#[interface(name = "org.freedesktop.NetworkManager")]
impl Manager {
    async fn get_devices(&self) -> Vec<OwnedObjectPath> {
        let mut w = lock(&self.world);
        w.calls.push("GetDevices".into());
        if w.device_present {
            vec![path(DEVICE_PATH.into())]
        } else {
            Vec::new()
        }
    }

    async fn activate_connection(
        &self,
        connection: ObjectPath<'_>,
        device: ObjectPath<'_>,
        _specific_object: ObjectPath<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        let (ssid, psk, active) = {
            let mut w = lock(&self.world);
            w.calls.push("ActivateConnection".into());
            check_device(&w, &device)?;
            let saved = w
                .saved
                .iter()
                .find(|s| connection_path(s.id) == connection.as_str())
                .ok_or_else(|| fdo::Error::UnknownObject(format!("no connection {connection}")))?;
            let (ssid, psk) = (saved.ssid.clone(), saved.psk.clone());
            (ssid, psk, w.next_id())
        };
        tokio::spawn(world::activate(conn.clone(), self.world.clone(), ssid, psk));
        Ok(path(format!(
            "/org/freedesktop/NetworkManager/ActiveConnection/{active}"
        )))
    }

    async fn add_and_activate_connection(
        &self,
        connection: HashMap<String, HashMap<String, OwnedVariant>>,
        device: ObjectPath<'_>,
        _specific_object: ObjectPath<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(object_server)] server: &ObjectServer,
    ) -> fdo::Result<(OwnedObjectPath, OwnedObjectPath)> {
        let ssid = connection
            .get("802-11-wireless")
            .and_then(|w| w.get("ssid"))
            .and_then(|v| Vec::<u8>::try_from(v.clone()).ok())
            .ok_or_else(|| fdo::Error::InvalidArgs("802-11-wireless.ssid missing".into()))?;
        let psk = connection
            .get("802-11-wireless-security")
            .and_then(|s| s.get("psk"))
            .and_then(|v| String::try_from(v.clone()).ok());
        let mut settings = connection;
        // GetSettings never shows secrets.
        if let Some(security) = settings.get_mut("802-11-wireless-security") {
            security.remove("psk");
        }
        let (id, active) = {
            let mut w = lock(&self.world);
            w.calls.push("AddAndActivateConnection".into());
            check_device(&w, &device)?;
            let id = w.next_id();
            w.saved.push(Saved {
                id,
                ssid: ssid.clone(),
                psk: psk.clone(),
                settings,
            });
            (id, w.next_id())
        };
        let saved = SettingsConnection {
            world: self.world.clone(),
            id,
        };
        server
            .at(connection_path(id), saved)
            .await
            .map_err(|e| fdo::Error::Failed(e.to_string()))?;
        tokio::spawn(world::activate(conn.clone(), self.world.clone(), ssid, psk));
        Ok((
            path(connection_path(id)),
            path(format!("/org/freedesktop/NetworkManager/ActiveConnection/{active}")),
        ))
    }
}

fn check_device(w: &world::World, device: &ObjectPath<'_>) -> fdo::Result<()> {
    if w.device_present && device.as_str() == DEVICE_PATH {
        Ok(())
    } else {
        Err(fdo::Error::UnknownObject(format!("no device {device}")))
    }
}

/// `org.freedesktop.NetworkManager.Device` of the Wi-Fi device.
pub(crate) struct WifiDevice {
    pub world: SharedWorld,
}

#[interface(name = "org.freedesktop.NetworkManager.Device")]
impl WifiDevice {
    async fn disconnect(&self, #[zbus(connection)] conn: &Connection) {
        lock(&self.world).calls.push("Disconnect".into());
        world::drop_connection(conn, &self.world, REASON_USER_REQUESTED).await;
    }

    #[zbus(property)]
    fn interface(&self) -> String {
        "wlan0".into()
    }

    #[zbus(property)]
    fn device_type(&self) -> u32 {
        2
    }

    #[zbus(property)]
    fn state(&self) -> u32 {
        lock(&self.world).state
    }

    #[zbus(property)]
    fn state_reason(&self) -> (u32, u32) {
        let w = lock(&self.world);
        (w.state, w.reason)
    }

    /// `StateChanged(new_state, old_state, reason)`.
    #[zbus(signal, name = "StateChanged")]
    pub(crate) async fn device_state_changed(
        emitter: &SignalEmitter<'_>,
        new_state: u32,
        old_state: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// `org.freedesktop.NetworkManager.Device.Wireless` of the Wi-Fi device.
pub(crate) struct Wireless {
    pub world: SharedWorld,
}

#[interface(name = "org.freedesktop.NetworkManager.Device.Wireless")]
impl Wireless {
    async fn get_access_points(&self) -> Vec<OwnedObjectPath> {
        let mut w = lock(&self.world);
        w.calls.push("GetAccessPoints".into());
        w.aps.iter().map(|ap| path(ap_path(ap.id))).collect()
    }

    async fn request_scan(&self, _options: HashMap<String, OwnedVariant>) {
        lock(&self.world).calls.push("RequestScan".into());
    }

    #[zbus(property)]
    fn active_access_point(&self) -> OwnedObjectPath {
        match lock(&self.world).active_ap {
            Some(id) => path(ap_path(id)),
            None => path("/".into()),
        }
    }
}

/// `org.freedesktop.NetworkManager.AccessPoint`.
pub(crate) struct AccessPoint {
    pub world: SharedWorld,
    pub id: u32,
}

impl AccessPoint {
    fn read<T>(&self, f: impl FnOnce(&super::AccessPointConfig) -> T) -> fdo::Result<T> {
        let w = lock(&self.world);
        w.aps
            .iter()
            .find(|ap| ap.id == self.id)
            .map(|ap| f(&ap.config))
            .ok_or_else(|| fdo::Error::UnknownObject(ap_path(self.id)))
    }
}

#[interface(name = "org.freedesktop.NetworkManager.AccessPoint")]
impl AccessPoint {
    #[zbus(property)]
    fn ssid(&self) -> fdo::Result<Vec<u8>> {
        self.read(|c| c.ssid.as_bytes().to_vec())
    }

    #[zbus(property)]
    fn hw_address(&self) -> fdo::Result<String> {
        self.read(|c| c.bssid.clone())
    }

    #[zbus(property)]
    fn strength(&self) -> fdo::Result<u8> {
        self.read(|c| c.strength)
    }
}

/// `org.freedesktop.NetworkManager.Settings`.
pub(crate) struct Settings {
    pub world: SharedWorld,
}

#[interface(name = "org.freedesktop.NetworkManager.Settings")]
impl Settings {
    async fn list_connections(&self) -> Vec<OwnedObjectPath> {
        let mut w = lock(&self.world);
        w.calls.push("ListConnections".into());
        w.saved.iter().map(|s| path(connection_path(s.id))).collect()
    }
}

/// `org.freedesktop.NetworkManager.Settings.Connection`.
pub(crate) struct SettingsConnection {
    pub world: SharedWorld,
    pub id: u32,
}

#[interface(name = "org.freedesktop.NetworkManager.Settings.Connection")]
impl SettingsConnection {
    async fn get_settings(&self) -> fdo::Result<HashMap<String, HashMap<String, OwnedVariant>>> {
        let w = lock(&self.world);
        w.saved
            .iter()
            .find(|s| s.id == self.id)
            .map(|s| s.settings.clone())
            .ok_or_else(|| fdo::Error::UnknownObject(connection_path(self.id)))
    }

    async fn update(&self, properties: HashMap<String, HashMap<String, OwnedVariant>>) -> fdo::Result<()> {
        let mut w = lock(&self.world);
        w.calls.push("Update".into());
        let saved = w
            .saved
            .iter_mut()
            .find(|s| s.id == self.id)
            .ok_or_else(|| fdo::Error::UnknownObject(connection_path(self.id)))?;
        let mut settings = properties;
        saved.psk = settings
            .get_mut("802-11-wireless-security")
            .and_then(|s| s.remove("psk"))
            .and_then(|v| String::try_from(v).ok());
        if let Some(ssid) = settings
            .get("802-11-wireless")
            .and_then(|w| w.get("ssid"))
            .and_then(|v| Vec::<u8>::try_from(v.clone()).ok())
        {
            saved.ssid = ssid;
        }
        saved.settings = settings;
        Ok(())
    }
}

/// The settings of a saved Wi-Fi connection (as `GetSettings` shows them).
pub(crate) fn wifi_settings(ssid: &str, secured: bool) -> HashMap<String, HashMap<String, OwnedVariant>> {
    let owned = |v: Variant<'_>| OwnedVariant::try_from(v).ok();
    let mut settings = HashMap::new();
    let mut connection = HashMap::new();
    connection.extend(owned(Variant::from(ssid)).map(|v| ("id".to_owned(), v)));
    connection.extend(owned(Variant::from("802-11-wireless")).map(|v| ("type".to_owned(), v)));
    settings.insert("connection".to_owned(), connection);
    let mut wireless = HashMap::new();
    wireless.extend(owned(Variant::from(ssid.as_bytes().to_vec())).map(|v| ("ssid".to_owned(), v)));
    settings.insert("802-11-wireless".to_owned(), wireless);
    if secured {
        let mut security = HashMap::new();
        security.extend(owned(Variant::from("wpa-psk")).map(|v| ("key-mgmt".to_owned(), v)));
        settings.insert("802-11-wireless-security".to_owned(), security);
    }
    settings
}
