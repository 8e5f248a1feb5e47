# -*- coding: utf-8 -*-
"""exp-sdk 5.0.0 README "Real Time Communications": channels, broadcasts,
listeners and responses, between two SDK instances in this process (each
with its own socket.io connection), with the channel rights the README
states for system channels and consumer apps.

Wire contract: shared WIRE.md B.4 (broadcasts), B.5 (channel ids), B.6
(Engine.IO 3 / socket.io 1.x as socketIO-client 0.7.2 speaks it).
"""

import base64
import json
import threading
import time

import exp_sdk
import pytest

import thingstead_compat

CONNECT_TIMEOUT = 20


def fresh(prefix="ch"):
    return "%s-%s" % (prefix, thingstead_compat.token_hex(6))


def connected(exp):
    """Waits until the instance's socket is connected (README: exp.is_connected)."""
    deadline = thingstead_compat.monotonic() + CONNECT_TIMEOUT
    while not exp.is_connected:
        if thingstead_compat.monotonic() > deadline:
            raise AssertionError("the SDK did not connect to /socket.io/ within %ss" % CONNECT_TIMEOUT)
        time.sleep(0.1)
    return exp


@pytest.fixture
def user(org):
    return connected(org.start_user(enable_network=True))


@pytest.fixture
def device(org):
    return connected(org.start_device(enable_network=True))


@pytest.fixture
def consumer(org):
    return connected(org.start_consumer(enable_network=True))


def test_exp_is_connected(org):
    exp = org.start_user(enable_network=True)
    connected(exp)
    assert exp.is_connected


def test_exp_get_channel_id(user, org):
    """Channel ids are base64 of [organization, name, system, consumer] (WIRE.md B.5)."""
    channel = user.get_channel("my_channel", consumer=True)
    assert json.loads(base64.b64decode(channel._id)) == [org.name, "my_channel", 0, 1]


def test_channel_listen_and_broadcast(user):
    """The SDK's simple message pattern: a broadcast reaches the sender's own listener."""
    channel = user.get_channel(fresh())
    listener = channel.listen("test_message")
    channel.broadcast("test_message", {"a": 1})
    broadcast = listener.wait(5)
    assert broadcast is not None, "no broadcast within 5 s"
    assert broadcast.payload == {"a": 1}


def test_channel_broadcast_between_two_instances(user, device):
    name = fresh()
    listener = device.get_channel(name).listen("hi")
    payload = {"text": u"gr\u00fc\u00df dich \u2603", "n": [1, 2.5, None, True], "nested": {"k": "v"}}
    assert user.get_channel(name).broadcast("hi", payload) == []
    broadcast = listener.wait(5)
    assert broadcast is not None, "the device did not receive the user's broadcast"
    assert broadcast.payload == payload


def test_broadcast_respond(user, device):
    """channel.broadcast(name, payload, timeout) returns the responses that
    listeners sent with broadcast.respond() while it waited."""
    name = fresh()
    listener = device.get_channel(name).listen("question")
    answered = []

    def responder():
        broadcast = listener.wait(10)
        if broadcast is not None and broadcast.payload == {"a": 1}:
            broadcast.respond({"b": 2})
            answered.append(True)

    t = threading.Thread(target=responder)
    t.start()
    try:
        responses = user.get_channel(name).broadcast("question", {"a": 1}, timeout=5)
    finally:
        t.join(15)
    assert answered, "the listener never saw the broadcast"
    assert responses == [{"b": 2}]


def test_broadcast_respond_several_listeners(user, device, org):
    consumer = connected(org.start_consumer(enable_network=True))
    name = fresh()
    listeners = [(device, device.get_channel(name, consumer=True).listen("roll")),
                 (consumer, consumer.get_channel(name, consumer=True).listen("roll"))]
    threads = []
    for i, (_, listener) in enumerate(listeners):
        def respond(listener=listener, i=i):
            b = listener.wait(10)
            if b is not None:
                b.respond(i)
        threads.append(threading.Thread(target=respond))
    for t in threads:
        t.start()
    try:
        responses = user.get_channel(name, consumer=True).broadcast("roll", None, timeout=5)
    finally:
        for t in threads:
            t.join(15)
    assert sorted(responses) == [0, 1]


def test_broadcast_without_listeners_returns_empty_list(user):
    assert user.get_channel(fresh()).broadcast("nobody", {"x": 1}, timeout=0.5) == []


def test_listener_wait_returns_broadcasts_in_order(user, device):
    name = fresh()
    listener = device.get_channel(name).listen("seq")
    for i in range(5):
        user.get_channel(name).broadcast("seq", i)
    got = [listener.wait(5) for _ in range(5)]
    assert [b.payload if b else None for b in got] == [0, 1, 2, 3, 4]
    assert listener.wait(0.2) is None


def test_listener_only_gets_its_event_name(user):
    channel = user.get_channel(fresh())
    listener = channel.listen("wanted")
    channel.broadcast("other", 1)
    channel.broadcast("wanted", 2)
    assert listener.wait(5).payload == 2
    assert listener.wait(0.3) is None


def test_listener_cancel(user):
    channel = user.get_channel(fresh())
    listener = channel.listen("m")
    listener.cancel()
    channel.broadcast("m")
    assert listener.wait(0.5) is None


def test_channel_listen_without_network_raises_network_error(org):
    """README: "If timeout is reached before the channel is opened, a NetworkError will be raised"."""
    exp = org.start_user(enable_network=False)
    with pytest.raises(exp_sdk.NetworkError):
        exp.get_channel(fresh()).listen("hello", timeout=1)


def test_system_channel_broadcast_refused(user, device):
    """README: "You cannot send messages on a system channel"."""
    for exp in (user, device):
        with pytest.raises(exp_sdk.ApiError) as e:
            exp.get_channel(fresh(), system=True).broadcast("update", {"forged": True})
        assert 400 <= e.value.status_code < 500


def test_system_channel_update_event(user, device):
    """README example "Creating a Device and Listening for Updates": a
    resource's changes are broadcast as "update" on its system channel."""
    target = user.create_device({"name": fresh("dev")})
    listener = device.get_device(target.uuid).get_channel(system=True).listen("update")
    target.name = fresh("renamed")
    target.save()
    assert listener.wait(5) is not None, "no update event after device.save()"


def test_consumer_app_broadcasts_on_consumer_channels(user, consumer):
    """Consumer apps talk on consumer channels, and users hear them there."""
    name = fresh()
    listener = user.get_channel(name, consumer=True).listen("hello")
    consumer.get_channel(name, consumer=True).broadcast("hello", {"from": "app"})
    broadcast = listener.wait(5)
    assert broadcast is not None and broadcast.payload == {"from": "app"}


def test_consumer_app_broadcast_on_non_consumer_channel_refused(consumer, user):
    name = fresh()
    listener = user.get_channel(name).listen("hello")
    with pytest.raises(exp_sdk.ApiError) as e:
        consumer.get_channel(name).broadcast("hello", {"from": "app"})
    assert 400 <= e.value.status_code < 500
    assert listener.wait(0.5) is None


def test_consumer_app_listen_on_non_consumer_channel_refused(consumer):
    """"Consumer devices will be unable to ... listen to messages on
    non-consumer channels": the subscription is never confirmed."""
    with pytest.raises(exp_sdk.NetworkError):
        consumer.get_channel(fresh()).listen("hello", timeout=3)


def test_channel_fling(user, device):
    """README documents channel.fling(payload), which exp-sdk 5.0.0 does not
    implement (WIRE.md B.6); on the wire it is a broadcast named "fling"."""
    location = user.create_location({"name": fresh("loc")})
    listener = device.get_location(location.uuid).get_channel().listen("fling")
    channel = location.get_channel()
    assert not hasattr(channel, "fling"), "exp-sdk now has fling: call it instead"
    channel.broadcast("fling", {"appTemplate": {"uuid": "app-template-uuid"}})
    broadcast = listener.wait(5)
    assert broadcast is not None and broadcast.payload == {"appTemplate": {"uuid": "app-template-uuid"}}


def test_channel_identify(user, device, org):
    """README documents channel.identify() (not implemented by exp-sdk 5.0.0):
    a broadcast named "identify" without payload, heard by the device."""
    listener = device.get_current_device().get_channel().listen("identify")
    channel = user.get_device(org.device["uuid"]).get_channel()
    assert not hasattr(channel, "identify"), "exp-sdk now has identify: call it instead"
    channel.broadcast("identify")
    broadcast = listener.wait(5)
    assert broadcast is not None and broadcast.payload is None


def test_broadcasts_stay_in_their_organization(user, other_org):
    """Same channel name, other organization: a different channel. And the
    other organization cannot subscribe to or broadcast on this one's ids."""
    other = connected(other_org.start_user(enable_network=True))
    name = fresh()
    mine = user.get_channel(name).listen("m")
    theirs = other.get_channel(name).listen("m")
    user.get_channel(name).broadcast("m", "inside")
    assert mine.wait(5).payload == "inside"
    assert theirs.wait(0.5) is None
    # The other organization's user, with this organization's channel id.
    foreign = other._sdk.network._get_channel_by_id(user.get_channel(name)._id)
    with pytest.raises(exp_sdk.NetworkError):
        foreign.listen("m", timeout=3)
    try:
        foreign.broadcast("m", "crossed")
    except exp_sdk.ApiError as e:
        assert 400 <= e.status_code < 500
    assert mine.wait(0.5) is None
