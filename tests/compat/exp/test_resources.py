"""exp-sdk 5.0.0 README "API" / "Resources": the common resource calls of
devices, things, experiences, locations and feeds, each test named after
the documented call and run for every resource that documents it.

Wire contract: shared WIRE.md B.1 and B.3.
"""

import base64
import json

import exp_sdk
import pytest
from exp_sdk import api

import thingstead_compat

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


def name():
    return "n-" + thingstead_compat.token_hex(8)


class Kind(object):
    def __init__(self, noun, plural, cls, document):
        self.noun = noun
        self.cls = cls
        self.document = document
        self.create = "create_" + noun
        self.get = "get_" + noun
        self.find = "find_" + plural
        self.delete = "delete_" + noun

    def __repr__(self):
        return self.noun


KINDS = [
    Kind("device", "devices", api.Device, lambda: {"name": name(), "subtype": "scala:device:player"}),
    Kind("thing", "things", api.Thing, lambda: {"name": name(), "subtype": "scala:thing:rfid", "id": name()}),
    Kind("experience", "experiences", api.Experience, lambda: {"name": name()}),
    Kind("location", "locations", api.Location, lambda: {"name": name()}),
    Kind("feed", "feeds", api.Feed,
         lambda: {"name": name(), "subtype": "scala:feed:weather", "dataType": "static", "searchValue": "19713"}),
]
IDS = [k.noun for k in KINDS]


def create(exp, kind, **extra):
    doc = kind.document()
    doc.update(extra)
    return getattr(exp, kind.create)(doc)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_create(exp, kind):
    """exp.create_X(document) returns a resource with a server-assigned uuid."""
    doc = kind.document()
    doc["custom"] = {"nested": [1, 2, {"a": u"\u00fc"}]}
    resource = getattr(exp, kind.create)(doc)
    assert isinstance(resource, kind.cls)
    assert isinstance(resource.document, dict)
    assert resource.uuid and resource.uuid == resource.document["uuid"]
    assert resource.name == doc["name"]
    assert resource.document["custom"] == doc["custom"]
    for field in ("location", "experience", "zones"):
        assert resource.document.get(field, {}) is not None, "%s is null (WIRE.md B.3)" % field


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_create_without_document(exp, kind):
    """exp.create_X() sends no body: the server creates one or answers an ApiError."""
    try:
        resource = getattr(exp, kind.create)()
    except exp_sdk.ApiError as e:
        assert 400 <= e.status_code < 500, e
    else:
        assert resource.uuid


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_get(exp, kind):
    created = create(exp, kind)
    got = getattr(exp, kind.get)(created.uuid)
    assert isinstance(got, kind.cls)
    # A new device's document carries its credentials once (as `admin device create` prints them).
    expected = dict((k, v) for k, v in created.document.items() if k not in ("secret", "devicekey"))
    assert got.document == expected


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_get_unknown_returns_none(exp, kind):
    get = getattr(exp, kind.get)
    assert get(UNKNOWN_UUID) is None
    assert get("invalid uuid") is None  # sent as invalid%20uuid
    assert get() is None  # no request at all


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_find(exp, kind):
    first, second = create(exp, kind), create(exp, kind)
    everything = getattr(exp, kind.find)()
    assert all(isinstance(r, kind.cls) for r in everything)
    assert set([first.uuid, second.uuid]) <= set(r.uuid for r in everything)
    assert everything.total >= 2
    found = getattr(exp, kind.find)({"name": first.name})
    assert [r.uuid for r in found] == [first.uuid]
    assert found.total == 1
    assert found.results[0] == found[0].document
    assert getattr(exp, kind.find)({"name": name()}).total == 0


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_resource_save(exp, kind):
    resource = create(exp, kind)
    new_name = name()
    resource.name = new_name
    resource.document["extra"] = {"saved": True}
    resource.save()
    assert resource.name == new_name
    again = getattr(exp, kind.get)(resource.uuid)
    assert again.name == new_name
    assert again.document["extra"] == {"saved": True}


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_resource_refresh(exp, kind):
    resource_1 = create(exp, kind)
    resource_2 = getattr(exp, kind.get)(resource_1.uuid)
    new_name = name()
    resource_1.name = new_name
    resource_1.save()
    resource_2.refresh()
    assert resource_2.name == new_name


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_resource_delete(exp, kind):
    resource = create(exp, kind)
    resource.delete()
    assert getattr(exp, kind.get)(resource.uuid) is None


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_exp_delete(exp, kind):
    resource = create(exp, kind)
    getattr(exp, kind.delete)(resource.uuid)
    assert getattr(exp, kind.get)(resource.uuid) is None
    assert resource.uuid not in [r.uuid for r in getattr(exp, kind.find)()]


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_resource_get_channel(exp, org, kind):
    """The channel of a resource is named by its uuid (WIRE.md B.5)."""
    resource = create(exp, kind)
    channel = resource.get_channel(system=True)
    raw = json.loads(base64.b64decode(channel._id))
    assert raw == [org.name, resource.uuid, 1, 0]


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_resources_are_per_organization(exp, other_org, kind):
    """Nothing crosses organizations: another organization's user cannot get,
    find, save or delete this one's resources."""
    resource = create(exp, kind)
    other = other_org.start_user()
    assert getattr(other, kind.get)(resource.uuid) is None
    assert resource.uuid not in [r.uuid for r in getattr(other, kind.find)()]
    stranger = kind.cls(dict(resource.document, name="stolen"), other._sdk)
    with pytest.raises(exp_sdk.ApiError) as e:
        stranger.save()
    assert e.value.status_code == 404
    try:
        getattr(other, kind.delete)(resource.uuid)
    except exp_sdk.ApiError as e:
        assert e.status_code == 404, e
    assert getattr(exp, kind.get)(resource.uuid).name == resource.name


def test_experience_duplicate_name_is_an_api_error(exp):
    """Experience names are unique in an organization (WIRE.md B.3)."""
    taken = name()
    exp.create_experience({"name": taken})
    with pytest.raises(exp_sdk.ApiError) as e:
        exp.create_experience({"name": taken})
    assert 400 <= e.value.status_code < 500
    assert exp.find_experiences({"name": taken}).total == 1


def test_exp_find_total_and_results_attributes(exp):
    """"Iterable also has attributes matching the raw API response document
    properties (i.e. total and results)"."""
    create(exp, KINDS[0])
    found = exp.find_devices()
    assert isinstance(found.total, int)
    assert isinstance(found.results, list)
    assert [r.uuid for r in found] == [d["uuid"] for d in found.results]
