# -*- coding: utf-8 -*-
"""exp-sdk 5.0.0 README "Data": data items by group and key, JSON objects
only, at most 16 MB each; groups and keys are percent-encoded in the path.

Wire contract: shared WIRE.md B.1 (percent-encoding) and B.3 (data items).
"""

import base64
import json

import exp_sdk
import pytest

import thingstead_compat

MIB = 1024 * 1024


def key():
    return "k-" + thingstead_compat.token_hex(6)


def test_exp_create_data(exp):
    """The README's example: exp.create_data('cats', 'fluffy', {'color': 'brown'})."""
    data = exp.create_data("cats", "fluffy", {"color": "brown"})
    assert (data.group, data.key, data.value) == ("cats", "fluffy", {"color": "brown"})


def test_exp_get_data(exp):
    k = key()
    exp.create_data("cats", k, {"color": "brown", "n": [1, 2.5, None, True]})
    data = exp.get_data("cats", k)
    assert (data.group, data.key) == ("cats", k)
    assert data.value == {"color": "brown", "n": [1, 2.5, None, True]}
    assert exp.get_data("cats", key()) is None
    assert exp.get_data("no-such-group", k) is None


def test_exp_find_data(exp):
    group = "g-" + thingstead_compat.token_hex(4)
    k1, k2 = key(), key()
    exp.create_data(group, k1, {"i": 1})
    exp.create_data(group, k2, {"i": 2})
    exp.create_data(group + "-other", k1, {"i": 3})
    items = exp.find_data({"group": group})
    assert items.total == 2
    assert sorted((d.group, d.key, d.value["i"]) for d in items) == sorted([(group, k1, 1), (group, k2, 2)])


def test_data_save(exp):
    k = key()
    data = exp.create_data("cats", k, {"color": "brown"})
    data.value = {"color": "black", "eyes": "blue"}
    data.save()
    assert exp.get_data("cats", k).value == {"color": "black", "eyes": "blue"}


def test_data_refresh(exp):
    k = key()
    data = exp.create_data("cats", k, {"v": 1})
    exp.create_data("cats", k, {"v": 2})  # overwrite
    data.refresh()
    assert data.value == {"v": 2}


def test_data_delete(exp):
    k = key()
    data = exp.create_data("cats", k, {"v": 1})
    data.delete()
    assert exp.get_data("cats", k) is None


def test_exp_delete_data(exp):
    k = key()
    exp.create_data("cats", k, {"v": 1})
    exp.delete_data("cats", k)
    assert exp.get_data("cats", k) is None
    assert k not in [d.key for d in exp.find_data({"group": "cats"})]


def test_data_get_channel(exp, org):
    data = exp.create_data("cats", "fluffy", {"v": 1})
    raw = json.loads(base64.b64decode(data.get_channel()._id))
    assert raw == [org.name, "data:cats:fluffy", 0, 0]


@pytest.mark.parametrize("value", [[1, 2], "a string", 42, None, True], ids=["array", "string", "number", "null",
                                                                             "bool"])
def test_exp_create_data_refuses_non_objects(exp, value):
    """"Data values must be a javascript object"."""
    k = key()
    with pytest.raises(exp_sdk.ApiError) as e:
        exp.create_data("cats", k, value)
    assert 400 <= e.value.status_code < 500
    assert exp.get_data("cats", k) is None


def test_exp_create_data_15_mib_accepted(exp):
    """"There is a limit of 16MB per data document": 15 MiB fits."""
    k = key()
    value = {"blob": "x" * (15 * MIB)}
    exp.create_data("big", k, value)
    got = exp.get_data("big", k)
    assert len(got.value["blob"]) == 15 * MIB


def test_exp_create_data_17_mib_refused(exp):
    """A 17 MiB document is refused with a JSON error and nothing is stored."""
    k = key()
    with pytest.raises(exp_sdk.ApiError) as e:
        exp.create_data("big", k, {"blob": "x" * (17 * MIB)})
    assert 400 <= e.value.status_code < 500
    assert exp.get_data("big", k) is None
    # An existing value is not replaced by a refused one either.
    exp.create_data("big", k, {"small": True})
    with pytest.raises(exp_sdk.ApiError):
        exp.create_data("big", k, {"blob": "x" * (17 * MIB)})
    assert exp.get_data("big", k).value == {"small": True}


# Groups and keys go into the path through urllib.quote (WIRE.md B.1): byte
# strings (UTF-8), as Python 2 code passes them.
ENCODED = [
    ("space", "my group", "my key"),
    ("colon", "a:b", "c:d"),
    ("ampersand", "a&b", "c&d=e"),
    ("non-ascii", "gr\xc3\xbcn", "cl\xc3\xa9 \xe2\x82\xac"),
    ("mixed", "x y:z", "\xc3\xbc&:v w"),
]


@pytest.mark.parametrize("label,group,k", ENCODED, ids=[e[0] for e in ENCODED])
def test_data_percent_encoded_group_and_key(exp, label, group, k):
    ugroup, ukey = group.decode("utf-8"), k.decode("utf-8")
    created = exp.create_data(group, k, {"label": label})
    assert (created.group, created.key) == (ugroup, ukey)
    got = exp.get_data(group, k)
    assert got is not None, "GET of %r/%r found nothing" % (ugroup, ukey)
    assert (got.group, got.key, got.value) == (ugroup, ukey, {"label": label})
    found = exp.find_data({"group": group})
    assert [(d.group, d.key) for d in found] == [(ugroup, ukey)]
    # data.save() builds its path with str.format from the server's (unicode)
    # group and key, which Python 2 cannot do for non-ASCII ones: an SDK
    # limitation, so those are saved by passing the byte strings again.
    if all(ord(c) < 128 for c in ugroup + ukey):
        created.value = {"label": label, "saved": True}
        created.save()
    else:
        exp.create_data(group, k, {"label": label, "saved": True})
    assert exp.get_data(group, k).value["saved"] is True
    exp.delete_data(group, k)
    assert exp.get_data(group, k) is None
