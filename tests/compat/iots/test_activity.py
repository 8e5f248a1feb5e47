"""iots 0.5.0 against thingstead: the actions and events of a thing
(WIRE.md A.3, A.4) through the unmodified SDK calls: actions create, list,
get, update and delete; events create, list, get and delete; both under
`things(t)` and `categories(c).things(t)`; paging across several pages
with `limit` (the SDK follows next_cursor); ResponseError on 404 with
`.error` and `http_response()`.
"""

import pytest

from iots.models.exceptions import ResponseError


def api_of(space, scopes=("thing", "category")):
    client = space.client(scopes=scopes)
    return space.api().set_credentials(client["client_id"], client["client_secret"], scopes=list(scopes))


def lamp(title):
    return {
        "title": title,
        "actions": {
            "fade": {
                "input": {
                    "type": "object",
                    "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 100}},
                    "required": ["level"],
                }
            },
            "reboot": {},
        },
        "events": {"overheated": {"data": {"type": "number"}}, "ping": {}},
    }


def id_of(value):
    """An action's or event's id: the last segment of its href."""
    return value.href.rstrip("/").rsplit("/", 1)[-1]


def test_actions_create_list_get_update_delete(space):
    s = api_of(space).spaces(space.name)
    s.categories().create({"name": "lamps", "description": "lamps"})
    uid = s.categories("lamps").things().create(lamp("kitchen")).uid
    thing = s.things(uid)

    created = thing.actions("fade").create({"fade": {"input": {"level": 40}}})
    fade = created["fade"]
    assert fade.status == "pending" and fade.timeRequested is not None
    assert fade.input.__root__ == {"level": 40}
    assert "/things/%s/actions/fade/" % uid in fade.href
    fade_id = id_of(fade)
    in_category = s.categories("lamps").things(uid).actions("reboot").create({"reboot": {}})
    reboot_id = id_of(in_category["reboot"])

    listed = thing.actions().get()
    assert [list(a.__root__)[0] for a in listed.data] == ["reboot", "fade"]
    assert [id_of(a["fade"]) for a in thing.actions("fade").get().data] == [fade_id]

    got = thing.actions("fade", fade_id).get()
    assert id_of(got["fade"]) == fade_id and got["fade"].status == "pending"
    updated = thing.actions("fade", fade_id).update({"fade": {"status": "completed", "output": {"level": 40}}})
    assert updated["fade"].status == "completed" and updated["fade"].timeCompleted is not None
    assert updated.http_response().json()["fade"]["output"] == {"level": 40}

    s.categories("lamps").things(uid).actions("reboot", reboot_id).delete()
    with pytest.raises(ResponseError) as raised:
        thing.actions("reboot", reboot_id).get()
    assert raised.value.http_response().status_code == 404
    assert raised.value.error.error.status == 404
    assert [id_of(a["fade"]) for a in thing.actions().get().data] == [fade_id]

    # Inputs outside the TD: 400.
    for name, body in [("fade", {"fade": {"input": {"level": 500}}}), ("explode", {"explode": {}})]:
        with pytest.raises(ResponseError) as raised:
            thing.actions(name).create(body)
        assert raised.value.http_response().status_code == 400


def test_events_create_list_get_delete(space):
    s = api_of(space).spaces(space.name)
    uid = s.things().create(lamp("hall")).uid
    thing = s.things(uid)
    created = thing.events("overheated").create({"overheated": {"data": 81.5}})
    value = created["overheated"]
    # (The SDK's AnyValue model turns 81.5 into 81; the wire has 81.5.)
    assert created.http_response().json()["overheated"]["data"] == 81.5
    assert value.timestamp is not None
    event_id = id_of(value)
    ping = thing.events("ping").create({"ping": {}})
    assert ping["ping"].href.endswith("/events/ping/" + id_of(ping["ping"]))

    assert len(thing.events().get().data) == 2
    assert [id_of(e["overheated"]) for e in thing.events("overheated").get().data] == [event_id]
    assert thing.events("overheated", event_id).get().http_response().json()["overheated"]["data"] == 81.5
    thing.events("overheated", event_id).delete()
    with pytest.raises(ResponseError) as raised:
        thing.events("overheated", event_id).get()
    assert raised.value.http_response().status_code == 404
    with pytest.raises(ResponseError) as raised:
        thing.events("overheated").create({"overheated": {"data": "hot"}})
    assert raised.value.http_response().status_code == 400


def test_actions_and_events_page_across_several_pages(space):
    s = api_of(space).spaces(space.name)
    thing = s.things(s.things().create(lamp("porch")).uid)
    actions = [id_of(thing.actions("reboot").create({"reboot": {}})["reboot"]) for _ in range(7)]
    events = [id_of(thing.events("ping").create({"ping": {"data": i}})["ping"]) for i in range(7)]
    first = thing.actions().get(params={"limit": 3})
    assert len(first.data) == 3 and first.paging.next_cursor
    assert first.paging.previous_cursor is None
    # Iterating follows next_cursor to the end: every action once, newest first.
    assert [id_of(a["reboot"]) for a in first] == actions[::-1]
    page = thing.events("ping").get(params={"limit": 2})
    first_ids = [id_of(e["ping"]) for e in page.data]
    # (Iterating extends page.data in place with the later pages.)
    assert [id_of(e["ping"]) for e in page] == events[::-1]
    # previous_cursor goes back to the same page.
    second = thing.events().get(params={"limit": 2, "next_cursor": page.paging.next_cursor})
    back = thing.events().get(params={"limit": 2, "previous_cursor": second.paging.previous_cursor})
    assert [id_of(e["ping"]) for e in back.data] == first_ids
    assert back.paging.previous_cursor is None and back.paging.next_cursor
    with pytest.raises(ResponseError) as raised:
        thing.events().get(params={"next_cursor": "garbled"})
    assert raised.value.http_response().status_code == 400


def test_unknown_things_and_ids_raise_response_error_404(space, other_space):
    s = api_of(space).spaces(space.name)
    uid = s.things().create(lamp("attic")).uid
    for call in (
        lambda: s.things("no-such-thing").actions().get(),
        lambda: s.things("no-such-thing").events("ping").get(),
        lambda: s.things(uid).actions("fade", "no-such-id").get(),
        lambda: s.things("no-such-thing").actions("fade").create({"fade": {"input": {"level": 1}}}),
    ):
        with pytest.raises(ResponseError) as raised:
            call()
        assert raised.value.http_response().status_code == 404
        assert raised.value.error.error.status == 404 and raised.value.error.error.message
    # (0.5.0 reads no body from a failed event delete: .error is NoResponse.)
    with pytest.raises(ResponseError) as raised:
        s.things(uid).events("ping", "no-such-id").delete()
    assert raised.value.http_response().status_code == 404
    assert raised.value.http_response().json()["error"]["status"] == 404
    stranger = api_of(other_space).spaces(space.name)
    with pytest.raises(ResponseError) as raised:
        stranger.things(uid).actions().get()
    assert raised.value.http_response().status_code == 403
