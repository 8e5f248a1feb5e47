"""exp-sdk 5.0.0 README "Devices", "Things", "Experiences", "Locations",
"Zones": the relations between resources, the current device, and the
location layout.

Wire contract: shared WIRE.md B.3 (relations the SDK derives from documents).
"""

import requests

import thingstead_compat
import uploads


def name():
    return "n-" + thingstead_compat.token_hex(8)


def zoned_location(exp, *keys):
    return exp.create_location({"name": name(), "zones": [{"key": k, "name": "zone " + k} for k in keys]})


def test_exp_get_current_device(org):
    """For a device login, get_current_device() is the device record the
    admin CLI created (one registry); users and consumer apps get None."""
    exp = org.start_device()
    device = exp.get_current_device()
    assert device is not None
    assert device.uuid == org.device["uuid"]
    assert device.name == org.device["name"]
    assert org.start_user().get_current_device() is None
    assert org.start_consumer().get_current_device() is None


def test_exp_get_device_is_the_admin_device(exp, org):
    device = exp.get_device(org.device["uuid"])
    assert device is not None and device.name == org.device["name"]


def test_device_get_location_and_get_zones(exp):
    location = zoned_location(exp, "a1", "b1", "c1")
    device = exp.create_device({"name": name(),
                                "location": {"uuid": location.uuid, "zones": [{"key": "a1"}, {"key": "c1"}]}})
    assert device.get_location().uuid == location.uuid
    assert sorted(z.key for z in device.get_zones()) == ["a1", "c1"]
    bare = exp.create_device({"name": name()})
    assert bare.get_location() is None
    assert bare.get_zones() == []


def test_device_get_experience(exp):
    experience = exp.create_experience({"name": name()})
    device = exp.create_device({"name": name(), "experience": {"uuid": experience.uuid}})
    assert device.get_experience().uuid == experience.uuid
    assert exp.create_device({"name": name()}).get_experience() is None


def test_thing_get_location_and_get_zones(exp):
    location = zoned_location(exp, "a1", "b1")
    thing = exp.create_thing({"name": name(), "subtype": "scala:thing:rfid", "id": name(),
                              "location": {"uuid": location.uuid, "zones": [{"key": "b1"}]}})
    assert thing.get_location().uuid == location.uuid
    assert [z.key for z in thing.get_zones()] == ["b1"]


def test_current_location_zones_experience(org):
    """get_current_location/zones/experience follow the logged-in device's
    document (placed there by a user); a user gets None and []."""
    exp = org.start_device()
    assert exp.get_current_location() is None
    assert exp.get_current_zones() == []
    assert exp.get_current_experience() is None
    user = org.start_user()
    location = zoned_location(user, "a1", "b1")
    experience = user.create_experience({"name": name()})
    device = user.get_device(org.device["uuid"])
    device.document["location"] = {"uuid": location.uuid, "zones": [{"key": "a1"}]}
    device.document["experience"] = {"uuid": experience.uuid}
    device.save()
    assert exp.get_current_location().uuid == location.uuid
    assert [z.key for z in exp.get_current_zones()] == ["a1"]
    assert exp.get_current_experience().uuid == experience.uuid
    assert user.get_current_location() is None
    assert user.get_current_zones() == []
    assert user.get_current_experience() is None


def test_experience_get_devices(exp):
    """The SDK drops the experience filter (WIRE.md B.3): it lists devices."""
    experience = exp.create_experience({"name": name()})
    device = exp.create_device({"name": name(), "experience": {"uuid": experience.uuid}})
    assert device.uuid in [d.uuid for d in experience.get_devices()]


def test_location_get_devices_and_get_things(exp):
    location = exp.create_location({"name": name()})
    device = exp.create_device({"name": name(), "location": {"uuid": location.uuid}})
    thing = exp.create_thing({"name": name(), "subtype": "scala:thing:rfid", "id": "123",
                              "location": {"uuid": location.uuid}})
    devices = location.get_devices()
    assert devices.total >= 1 and device.uuid in [d.uuid for d in devices]
    things = location.get_things()
    assert things.total >= 1 and thing.uuid in [t.uuid for t in things]


def test_location_get_zones(exp):
    location = zoned_location(exp, "a1", "b1")
    zones = location.get_zones()
    assert [(z.key, z.name) for z in zones] == [("a1", "zone a1"), ("b1", "zone b1")]
    assert all(z.get_location() is location for z in zones)


def test_zone_save(exp):
    """A zone is saved through its location (PATCH of the whole document)."""
    location = zoned_location(exp, "a1", "b1")
    zone = location.get_zones()[1]
    zone.name = "renamed"
    zone.save()
    again = exp.get_location(location.uuid)
    assert [(z.key, z.name) for z in again.get_zones()] == [("a1", "zone a1"), ("b1", "renamed")]


def test_zone_refresh(exp):
    location = zoned_location(exp, "a1")
    zone = location.get_zones()[0]
    other = exp.get_location(location.uuid)
    other.document["zones"][0]["name"] = "changed elsewhere"
    other.save()
    zone.refresh()
    assert zone.name == "changed elsewhere"


def test_zone_get_devices_and_get_things(exp):
    location = zoned_location(exp, "a1", "b1")
    other_location = zoned_location(exp, "a1")
    zone_a, zone_b = location.get_zones()
    in_a = exp.create_device({"name": name(), "location": {"uuid": location.uuid, "zones": [{"key": "a1"}]}})
    in_ab = exp.create_device({"name": name(),
                               "location": {"uuid": location.uuid, "zones": [{"key": "b1"}, {"key": "a1"}]}})
    exp.create_device({"name": name(), "location": {"uuid": location.uuid, "zones": [{"key": "b1"}]}})
    exp.create_device({"name": name(), "location": {"uuid": other_location.uuid, "zones": [{"key": "a1"}]}})
    exp.create_device({"name": name(), "location": {"uuid": location.uuid}})
    assert sorted(d.uuid for d in zone_a.get_devices()) == sorted([in_a.uuid, in_ab.uuid])
    thing = exp.create_thing({"name": name(), "subtype": "scala:thing:rfid", "id": name(),
                              "location": {"uuid": location.uuid, "zones": [{"key": "b1"}]}})
    assert [t.uuid for t in zone_b.get_things()] == [thing.uuid]
    assert zone_a.get_things().total == 0


def test_zone_get_channel(exp, org):
    location = zoned_location(exp, "a1")
    zone = location.get_zones()[0]
    assert zone._get_channel_name() == location.uuid + ":zone:a1"
    assert zone.get_channel()._id == exp.get_channel(location.uuid + ":zone:a1")._id


def test_device_get_zones_of_zone_device(exp):
    """The README's round trip: a device placed in a zone lists that zone."""
    location = zoned_location(exp, "a1")
    zone = location.get_zones()[0]
    device = exp.create_device({"name": name(), "location": {"uuid": location.uuid, "zones": [{"key": zone.key}]}})
    assert [z.key for z in device.get_zones()] == ["a1"]
    assert [d.uuid for d in zone.get_devices()] == [device.uuid]


def test_location_get_layout_url(exp, org):
    """get_layout_url() is relative: /api/locations/{uuid}/layout?_rt=...; a
    plain GET of it (no Authorization) returns the uploaded image."""
    location = exp.create_location({"name": name()})
    image = b"\x89PNG\r\n\x1a\n" + thingstead_compat.token_hex(64).encode("ascii") + b"\x00\xff"
    uploads.put_layout(exp, location.uuid, image, "image/png")
    url = location.get_layout_url()
    assert url.startswith("/api/locations/%s/layout?_rt=" % location.uuid), url
    r = requests.get(org.host + url, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.content == image
    # An invalid restricted token does not open it.
    other = requests.get(org.host + url.split("_rt=")[0] + "_rt=nope", timeout=10)
    assert other.status_code in (401, 403), other.status_code
