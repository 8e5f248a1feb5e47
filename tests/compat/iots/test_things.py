"""iots 0.5.0 against thingstead: categories, things and properties
(WIRE.md A.3-A.5) through the unmodified SDK calls, as IoT Studio
programs make them: CRUD, JSON Patch (one and many), filters with
repeated keys, pagination across several pages with `limit`, property
values, and ResponseError 404 for an unknown thing.
"""

import pytest

from iots.models.exceptions import ResponseError


def api_of(space, scopes=("thing", "category")):
    client = space.client(scopes=scopes)
    return space.api().set_credentials(client["client_id"], client["client_secret"], scopes=list(scopes))


def sensor(title, **extra):
    td = {
        "title": title,
        "@type": ["Sensor"],
        "description": "a sensor",
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "label": {"type": "string"},
        },
    }
    td.update(extra)
    return td


def status_of(raised):
    return raised.value.http_response().status_code


def test_categories_crud(space):
    s = api_of(space).spaces(space.name)
    created = s.categories().create({"name": "lab", "description": "the lab"})
    assert created.name == "lab" and created.created is not None
    with pytest.raises(ResponseError) as raised:
        s.categories().create({"name": "lab", "description": "again"})
    assert status_of(raised) == 409
    s.categories().create({"name": "yard", "description": "outside"})
    names = [c.name for c in s.categories().get().data]
    assert names == ["lab", "yard"]
    assert s.categories("lab").get().description == "the lab"
    updated = s.categories("lab").update({"name": "lab", "description": "renovated"})
    assert updated.description == "renovated"
    s.categories("yard").delete()
    with pytest.raises(ResponseError) as raised:
        s.categories("yard").get()
    assert status_of(raised) == 404
    assert raised.value.error.error.status == 404


def test_things_crud_and_patch(space):
    s = api_of(space).spaces(space.name)
    thing = s.things().create(sensor("alpha"))
    assert thing.uid and thing.uid in thing.id and thing.created is not None
    assert thing.title == "alpha"
    assert s.things(thing.uid).get().description == "a sensor"
    updated = s.things(thing.uid).update(sensor("alpha-2"))
    assert updated.title == "alpha-2"
    patched = s.things(thing.uid).patch([{"op": "replace", "path": "/description", "value": "patched"}])
    assert patched.description == "patched"
    other = s.things().create(sensor("beta"))
    multi = s.things().patch([
        {"id": other.uid, "patch": [{"op": "replace", "path": "/description", "value": "many"}]},
        {"id": "no-such-thing", "patch": [{"op": "replace", "path": "/description", "value": "x"}]},
    ])
    assert multi.has_errors == [1]
    assert s.things(other.uid).get().description == "many"
    s.things(thing.uid).delete()
    with pytest.raises(ResponseError) as raised:
        s.things(thing.uid).get()
    assert status_of(raised) == 404
    assert raised.value.error.error.message


def test_things_in_a_category(space):
    s = api_of(space).spaces(space.name)
    s.categories().create({"name": "lab", "description": ""})
    inside = s.categories("lab").things().create(sensor("inside"))
    assert inside.categories == ["lab"]
    s.things().create(sensor("outside"))
    listed = s.categories("lab").things().get()
    assert [t.uid for t in listed.data] == [inside.uid]
    assert s.categories("lab").things(inside.uid).get().title == "inside"


def test_filters_pagination_and_delete_by_filter(space):
    s = api_of(space).spaces(space.name)
    uids = [s.things().create(sensor("t%d" % i, model={"name": "m", "version": "1"})).uid for i in range(7)]
    first = s.things().get(params={"limit": 3})
    assert len(first.data) == 3 and first.paging.next_cursor
    # Iterating the list follows next_cursor to the end: every thing once.
    assert [t.uid for t in first] == uids
    some = s.things().get(params={"thingID[]": uids[2:4], "sort": "-title"})
    assert [t.title for t in some.data] == ["t3", "t2"]
    with pytest.raises(ResponseError) as raised:
        s.things().delete()
    assert status_of(raised) == 400
    deleted = s.things().delete(params={"thingID[]": uids[:2]})
    assert sorted(deleted) == sorted(uids[:2])
    assert len(s.things().get().data) == 5


def test_properties_get_and_update(space):
    s = api_of(space).spaces(space.name)
    uid = s.things().create(sensor("alpha")).uid
    written = s.things(uid).properties().update({"temperature": 21.5, "label": "x"})
    assert written["temperature"] == 21.5
    one = s.things(uid).properties("temperature").update(22, params={"update_history": False})
    assert one["temperature"] == 22
    assert s.things(uid).properties().get()["label"] == "x"
    assert s.things(uid).properties("temperature").get()["temperature"] == 22
    assert s.things(uid).get().status["temperature"] == 22
    with pytest.raises(ResponseError) as raised:
        s.things(uid).properties().update({"temperature": 1000})
    assert status_of(raised) == 400
    with pytest.raises(ResponseError) as raised:
        s.things("no-such-thing").properties().get()
    assert status_of(raised) == 404


def test_a_reader_cannot_write_and_other_spaces_are_closed(space, other_space):
    writer = api_of(space).spaces(space.name)
    uid = writer.things().create(sensor("alpha")).uid
    reader = api_of(space, scopes=("thing.read",)).spaces(space.name)
    assert reader.things(uid).get().title == "alpha"
    with pytest.raises(ResponseError) as raised:
        reader.things(uid).delete()
    assert status_of(raised) == 403
    stranger = api_of(other_space).spaces(space.name)
    with pytest.raises(ResponseError) as raised:
        stranger.things(uid).get()
    assert status_of(raised) == 403
