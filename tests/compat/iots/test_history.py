"""iots 0.5.0 against thingstead: property history (WIRE.md A.3, A.5).

iots 0.5.0 ships the classes of `iots.apis.properties_history` without
wiring them into `things(t)`; a client attaches them to a thing resource
(as below), which produces exactly `.../things/{t}/properties-history[/{p}]`.
Through them: create one and many points, get with `at` instants and
ranges (short forms too), `group`, paging with `limit`, delete; and
property writes through `things(t).properties(...)`, recorded unless
`update_history=False`.
"""

import pytest

from iots.apis.properties_history import PropertiesHistory1, PropertiesHistory2
from iots.models.exceptions import ResponseError


def api_of(space, scopes=("thing", "category")):
    client = space.client(scopes=scopes)
    return space.api().set_credentials(client["client_id"], client["client_secret"], scopes=list(scopes))


def history(thing, prop=None):
    """The properties-history resource of a thing resource (all properties, or `prop`)."""
    if prop is None:
        return PropertiesHistory2()._child_of(thing)
    return PropertiesHistory1(prop)._child_of(thing)


def sensor(title):
    return {
        "title": title,
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "humidity": {"type": "integer"},
        },
    }


def points(page):
    return [(p.at.strftime("%Y-%m-%dT%H:%M:%SZ"), p.properties.dict()) for p in page.data]


def test_create_one_and_many_then_get_with_at_and_group(space):
    s = api_of(space).spaces(space.name)
    thing = s.things(s.things().create(sensor("probe")).uid)
    one = history(thing).create({"at": "2022-05-01T10:00:00Z", "properties": {"temperature": 20, "humidity": 40}})
    assert len(one) == 1
    many = history(thing, "temperature").create(
        [
            {"at": "2022-06-01T10:00:00Z", "properties": {"temperature": 21}},
            {"at": "2023-01-15T10:00:00Z", "properties": {"temperature": 22}},
        ]
    )
    assert [p.properties["temperature"] for p in many] == [21, 22]
    assert many.http_response().status_code == 201

    everything = history(thing).get()
    assert len(everything.data) == 4  # one item per value
    grouped = history(thing).get(params={"group": True})
    assert points(grouped) == [
        ("2022-05-01T10:00:00Z", {"humidity": 40, "temperature": 20}),
        ("2022-06-01T10:00:00Z", {"temperature": 21}),
        ("2023-01-15T10:00:00Z", {"temperature": 22}),
    ]
    in_2022 = history(thing, "temperature").get(params={"at": "2022-01|2022-12"})
    assert [p.properties["temperature"] for p in in_2022.data] == [20, 21]
    months = history(thing).get(params={"at": "2022-06|2023-02", "group": True})
    assert [p.properties["temperature"] for p in months.data] == [21, 22]
    ranged = history(thing).get(params={"at": "2022-05-01T00:00:00Z|2022-05-02T00:00:00Z", "group": True})
    assert points(ranged) == [("2022-05-01T10:00:00Z", {"humidity": 40, "temperature": 20})]

    # A value outside the schema, a property of another path, a taken instant.
    for target, body in [
        (history(thing), {"at": "2022-07-01T00:00:00Z", "properties": {"temperature": 500}}),
        (history(thing, "temperature"), {"at": "2022-07-01T00:00:00Z", "properties": {"humidity": 1}}),
    ]:
        with pytest.raises(ResponseError) as raised:
            target.create(body)
        assert raised.value.http_response().status_code == 400
    with pytest.raises(ResponseError) as raised:
        history(thing).create({"at": "2022-05-01T10:00:00Z", "properties": {"temperature": 1}})
    assert raised.value.http_response().status_code == 409


def test_history_pages_and_deletes(space):
    s = api_of(space).spaces(space.name)
    thing = s.things(s.things().create(sensor("probe")).uid)
    history(thing).create(
        [{"at": "2024-01-01T00:00:%02dZ" % i, "properties": {"temperature": i}} for i in range(7)]
    )
    first = history(thing, "temperature").get(params={"limit": 3})
    assert len(first.data) == 3 and first.paging.next_cursor
    # Iterating follows next_cursor: every point once, oldest first.
    assert [p.properties["temperature"] for p in first] == list(range(7))

    history(thing).delete(params={"at": "2024-01-01T00:00:00Z|2024-01-01T00:00:02.500Z"})
    left = history(thing).get()
    assert [p.properties["temperature"] for p in left.data] == [3, 4, 5, 6]
    history(thing, "temperature").delete(params={"at": "2024-01-01T00:00:05Z"})
    assert [p.properties["temperature"] for p in history(thing).get().data] == [3, 4, 6]
    history(thing).delete(params={"at": "2024", "property_name[]": ["temperature"]})
    assert history(thing).get().data == []

    with pytest.raises(ResponseError) as raised:
        history(s.things("no-such-thing")).get()
    assert raised.value.http_response().status_code == 404
    assert raised.value.error.error.status == 404


def test_property_writes_are_recorded_unless_update_history_is_false(space):
    s = api_of(space).spaces(space.name)
    thing = s.things(s.things().create(sensor("probe")).uid)
    thing.properties().update({"temperature": 18, "humidity": 50})
    thing.properties("temperature").update(19)
    thing.properties("temperature").update(99, params={"update_history": False})
    thing.properties().update({"humidity": 51}, params={"update_history": False})
    assert thing.properties().get()["temperature"] == 99
    recorded = history(thing, "temperature").get()
    assert [p.properties["temperature"] for p in recorded.data] == [18, 19]
    assert [p.properties["humidity"] for p in history(thing, "humidity").get().data] == [50]
