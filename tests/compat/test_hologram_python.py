"""The unmodified hologram-python 0.10.3 SDK against a Thingstead server.

Wire contract: shared WIRE.md part C. Each test states which part it checks.
"""

import json
import os
import secrets
import string
import time

import pytest

from Hologram.CustomCloud import CustomCloud
from Hologram.HologramCloud import HologramCloud

HERE = os.path.dirname(os.path.abspath(__file__))

RESULT_STRINGS = {
    0: "Message sent successfully",
    1: "Connection was closed so we couldn't read the whole message",
    2: "Failed to parse the message",
    3: "Auth section of the message was invalid",
    4: "Payload type was invalid",
    5: "Protocol type was invalid",
    6: "Internal error in Hologram Cloud",
    7: "Metadata was formatted incorrectly",
    8: "Topic was formatted incorrectly",
    -1: "Unknown error",
}

# WIRE.md C.1: the server must close right after its reply. If it does not,
# every send costs the client its full 5 s read timeout.
MAX_SEND_SECONDS = 2.5


def hologram_cloud(server, devicekey):
    """HologramCloud with csrpsk auth, network-agnostic, pointed at our server."""
    cloud = HologramCloud({"devicekey": devicekey}, network="", authentication_type="csrpsk")
    cloud.send_host = server.device_host
    cloud.send_port = server.device_port
    return cloud


def custom_cloud(server, **kw):
    return CustomCloud(None, send_host=server.device_host, send_port=server.device_port, **kw)


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    result = fn(*args, **kw)
    return result, time.monotonic() - t0


def unknown_devicekey(known):
    alphabet = string.ascii_lowercase + string.digits
    while True:
        key = "".join(secrets.choice(alphabet) for _ in range(8))
        if key != known:
            return key


def csrpsk_frame(devicekey, data, topics=None):
    """A frame exactly as HologramCloud builds it (WIRE.md C.2)."""
    obj = {"k": devicekey, "m": "\x01agnostic-0.9.1"}
    if topics is not None:
        obj["t"] = topics
    obj["d"] = data
    return (json.dumps(obj) + "\r\r").encode()


def stored_with(msgs, payload):
    return [m for m in msgs if m["payload"] == payload]


def assert_stored(server, device, payload, topics=(), count=1):
    msgs = server.wait_messages(device, lambda ms: len(stored_with(ms, payload)) >= count)
    found = stored_with(msgs, payload)
    assert len(found) == count, (
        "expected %d stored message(s) with payload %r for device %s, found %d; stored payloads: %r"
        % (count, payload[:80], device["uuid"], len(found), [m["payload"][:80] for m in msgs])
    )
    for m in found:
        missing = [t for t in topics if t not in m["tags"]]
        assert not missing, "topics %r missing from stored tags %r" % (missing, m["tags"])
    return found


# --------------------------------------------------------------------------
# The SDK under test


def test_sdk_is_hologram_python_0_10_3_from_deps():
    from importlib.metadata import version

    import Hologram

    assert version("hologram-python") == "0.10.3"
    assert os.path.realpath(Hologram.__file__).startswith(os.path.realpath(os.path.join(HERE, ".deps")))
    # The 0.10.3 package still reports 0.9.1; it is sent in the metadata field.
    cloud = CustomCloud(None)
    assert cloud.version == "0.9.1"


# --------------------------------------------------------------------------
# HologramCloud.sendMessage (WIRE.md C.1, C.2)


def test_send_plain_message(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    result, elapsed = timed(cloud.sendMessage, "hello thingstead")
    assert result == 0, cloud.getResultString(result)
    assert cloud.resultWasSuccess(result)
    assert elapsed < MAX_SEND_SECONDS, (
        "send took %.2fs: the server must reply and close immediately after the \\r\\r terminator" % elapsed
    )
    assert_stored(server, device, b"hello thingstead")


def test_send_with_one_topic(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    assert cloud.sendMessage("with one topic", topics=["temperature"]) == 0
    assert_stored(server, device, b"with one topic", topics=["temperature"])


def test_send_with_several_topics(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    topics = ["alpha", "beta", "gamma-3", "_under_score"]
    assert cloud.sendMessage("with several topics", topics=topics) == 0
    assert_stored(server, device, b"with several topics", topics=topics)


def test_topics_are_sticky_within_one_cloud_instance(server, device):
    # hologram-python keeps its frame dict between sends, so a later message
    # without topics repeats the last topics (documented SDK behaviour); the
    # server stores what arrives on the wire.
    cloud = hologram_cloud(server, device["devicekey"])
    assert cloud.sendMessage("first", topics=["sticky"]) == 0
    assert cloud.sendMessage("second") == 0
    assert_stored(server, device, b"second", topics=["sticky"])


def test_send_unicode_message(server, device):
    # json.dumps escapes non-ASCII as \uXXXX, astral characters as surrogate pairs.
    text = "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001f600"
    cloud = hologram_cloud(server, device["devicekey"])
    assert cloud.sendMessage(text, topics=["unicod\u00e9"]) == 0
    assert_stored(server, device, text.encode("utf-8"), topics=["unicod\u00e9"])


@pytest.mark.parametrize("size", [4096, 30000])
def test_send_large_message(server, device, size):
    text = ("0123456789abcdef" * (size // 16 + 1))[:size]
    cloud = hologram_cloud(server, device["devicekey"])
    result, elapsed = timed(cloud.sendMessage, text)
    assert result == 0, cloud.getResultString(result)
    assert elapsed < MAX_SEND_SECONDS, "send of %d bytes took %.2fs" % (size, elapsed)
    assert_stored(server, device, text.encode())


def test_several_messages_are_all_stored(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    for i in range(5):
        assert cloud.sendMessage("burst %d" % i) == 0
    for i in range(5):
        assert_stored(server, device, b"burst %d" % i)


def test_unknown_devicekey_is_rejected_with_3(server, device):
    cloud = hologram_cloud(server, unknown_devicekey(device["devicekey"]))
    result = cloud.sendMessage("nobody home")
    assert result == 3, "expected 3 (auth invalid), got %r (%s)" % (result, cloud.getResultString(result))
    assert not cloud.resultWasSuccess(result)
    assert cloud.getResultString(result) == "Auth section of the message was invalid"
    assert stored_with(server.messages(device), b"nobody home") == []


# --------------------------------------------------------------------------
# HologramCloud.sendSMS (WIRE.md C.3)


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _sms_outbox(server, device):
    status, body = server.rest("GET", "/api/1/sms", device["apikey"])
    assert status == 200, "GET /api/1/sms -> %s %r" % (status, body)
    assert isinstance(body, dict) and body.get("success") is True, body
    assert isinstance(body["data"], list), body
    return body["data"]


def test_send_sms(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    result, elapsed = timed(cloud.sendSMS, "+15555550123", "hello")
    assert result == 0, "sendSMS -> %r (%s)" % (result, cloud.getResultString(result))
    assert elapsed < MAX_SEND_SECONDS, "SMS send took %.2fs" % elapsed
    outbox = _sms_outbox(server, device)
    matching = [
        r for r in outbox
        if any("15555550123" in s for s in _strings(r)) and "hello" in list(_strings(r))
    ]
    assert matching, "SMS to +15555550123 'hello' not in GET /api/1/sms: %r" % (outbox,)


def test_send_sms_invalid_destination(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    # Passes the client-side check (starts with '+'); the server must refuse it.
    # A reply that is not bare digits makes the SDK raise ValueError here.
    result = cloud.sendSMS("+12ab", "hello")
    assert not cloud.resultWasSuccess(result), "sendSMS('+12ab') -> %r" % (result,)
    assert result != -1, "expected a server error code (e.g. 2), got -1 (no/invalid reply)"


def test_send_sms_unknown_devicekey(server, device):
    cloud = hologram_cloud(server, unknown_devicekey(device["devicekey"]))
    assert cloud.sendSMS("+15555550123", "hello") == 3


# --------------------------------------------------------------------------
# CustomCloud raw frames (WIRE.md C.4)


def test_custom_cloud_raw_valid_frame(server, device):
    cloud = custom_cloud(server)
    reply, elapsed = timed(cloud.sendMessage, csrpsk_frame(device["devicekey"], "raw frame", ["raw"]))
    assert reply == b"[0,0]", "raw reply %r" % (reply,)
    assert elapsed < MAX_SEND_SECONDS, "raw send took %.2fs" % elapsed
    assert_stored(server, device, b"raw frame", topics=["raw"])


def test_custom_cloud_raw_garbage(server):
    cloud = custom_cloud(server)
    reply = cloud.sendMessage(b"this is not json at all\r\r")
    assert reply.startswith(b"[2"), "raw reply %r" % (reply,)
    assert json.loads(reply)[0] == 2


def test_custom_cloud_raw_truncated_json(server):
    cloud = custom_cloud(server)
    reply = cloud.sendMessage(b'{"k": "abcdefgh", "d": "trunc\r\r')
    assert reply.startswith(b"[2"), "raw reply %r" % (reply,)


def test_custom_cloud_raw_frame_without_key(server):
    cloud = custom_cloud(server)
    reply = cloud.sendMessage(b'{"m": "\\u0001agnostic-0.9.1", "d": "no key"}\r\r')
    assert json.loads(reply)[0] in (2, 3), "raw reply %r" % (reply,)


def test_custom_cloud_raw_unknown_key(server, device):
    cloud = custom_cloud(server)
    reply = cloud.sendMessage(csrpsk_frame(unknown_devicekey(device["devicekey"]), "x"))
    assert reply.startswith(b"[3"), "raw reply %r" % (reply,)


def test_custom_cloud_raw_sms_frame_reply_is_bare_digits(server, device):
    cloud = custom_cloud(server)
    reply = cloud.sendMessage(("S%s+15555550123 raw sms\r\r" % device["devicekey"]).encode())
    assert reply == b"0", "SMS reply must be bare ASCII digits, got %r" % (reply,)


def test_custom_cloud_result_helpers():
    cloud = CustomCloud(None)
    assert cloud.getResultString(b"[0,0]") == "b'[0,0]'"
    assert cloud.resultWasSuccess(b"anything")


# --------------------------------------------------------------------------
# Result codes (client-side table, WIRE.md C.2)


def test_result_strings():
    cloud = HologramCloud({"devicekey": "abcdefgh"}, network="", authentication_type="csrpsk")
    for code, text in RESULT_STRINGS.items():
        assert cloud.getResultString(code) == text
        assert cloud.resultWasSuccess(code) == (code in (0, 1))
    assert cloud.getResultString(42) == "Unknown response code"


# --------------------------------------------------------------------------
# Inbound, cloud-to-device (WIRE.md C.5)


def _push(server, device, port, text):
    status, body = server.rest(
        "POST", "/api/1/devices/messages", device["apikey"],
        body={
            "deviceids": [device["uuid"]],
            "protocol": "TCP",
            "port": port,
            "host": "127.0.0.1",
            "data": text,
        },
    )
    assert status == 200, "POST /api/1/devices/messages -> %s %r" % (status, body)
    assert isinstance(body, dict) and body.get("success") is True, body
    # Per-device results, when reported, must say the push was delivered.
    for r in body.get("data") or []:
        if isinstance(r, dict) and "result" in r:
            assert r["result"] == "delivered", "push result: %r" % (r,)
    return body


def _pop(cloud, timeout=6.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = cloud.popReceivedMessage()
        if msg is not None:
            return msg
        time.sleep(0.05)
    return None


def test_inbound_hologram_cloud(server, device, free_port):
    cloud = hologram_cloud(server, device["devicekey"])
    cloud.receive_host = "127.0.0.1"
    cloud.receive_port = free_port
    assert cloud.openReceiveSocket()
    try:
        text = "to the device \u2713"
        _push(server, device, free_port, text)
        assert _pop(cloud) == text
        assert cloud.popReceivedMessage() is None
    finally:
        cloud.closeReceiveSocket()


def test_inbound_custom_cloud(server, device, free_port):
    cloud = CustomCloud(None, receive_host="127.0.0.1", receive_port=free_port, enable_inbound=True)
    try:
        _push(server, device, free_port, "first")
        assert _pop(cloud) == "first"
        _push(server, device, free_port, "second")
        assert _pop(cloud) == "second"
    finally:
        cloud.closeReceiveSocket()


# --------------------------------------------------------------------------
# Periodic send


def test_periodic_message(server, device):
    cloud = hologram_cloud(server, device["devicekey"])
    cloud.sendPeriodicMessage(1, "tick", topics=["periodic"])
    try:
        time.sleep(2.5)
        assert cloud.periodicMessageRunning()
    finally:
        cloud.stopPeriodicMessage()
    assert not cloud.periodicMessageRunning()
    msgs = server.wait_messages(device, lambda ms: len(stored_with(ms, b"tick")) >= 2)
    ticks = stored_with(msgs, b"tick")
    assert len(ticks) >= 2, "periodic send stored %d messages" % len(ticks)
    assert all("periodic" in m["tags"] for m in ticks)
