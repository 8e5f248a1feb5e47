"""exp-sdk 5.0.0 README "Custom Requests": exp.get/post/patch/put/delete on
arbitrary paths, with the SDK's authentication; errors are ApiError with
the server's code, message and status.

Wire contract: shared WIRE.md B.1.
"""

import exp_sdk
import pytest

import thingstead_compat


def name():
    return "n-" + thingstead_compat.token_hex(8)


def test_exp_get(exp):
    device = exp.create_device({"name": name()})
    result = exp.get("/api/devices", {"name": device.name})
    assert [d["uuid"] for d in result["results"]] == [device.uuid]
    assert result["total"] == 1


def test_exp_post(exp):
    document = exp.post("/api/experiences", {"name": name()})
    assert document["uuid"]
    assert exp.get_experience(document["uuid"]).name == document["name"]


def test_exp_patch(exp):
    experience = exp.create_experience({"name": name()})
    new_name = name()
    document = exp.patch("/api/experiences/" + experience.uuid, dict(experience.document, name=new_name))
    assert document["name"] == new_name
    assert exp.get_experience(experience.uuid).name == new_name


def test_exp_put(exp):
    document = exp.put("/api/data/cats/fluffy", {"eyes": "blue"})
    assert document["value"] == {"eyes": "blue"}
    assert exp.get_data("cats", "fluffy").value == {"eyes": "blue"}


def test_exp_delete(exp):
    location = exp.create_location({"name": name()})
    exp.delete("/api/locations/" + location.uuid)
    assert exp.get_location(location.uuid) is None


def test_api_error_carries_code_message_status(exp):
    with pytest.raises(exp_sdk.ApiError) as e:
        exp.get("/api/devices/00000000-0000-4000-8000-000000000000")
    err = e.value
    assert err.status_code == 404
    assert err.code and err.code != "unknown.error", err.payload
    assert err.message, err.payload
    assert isinstance(err.payload, dict)
