# -*- coding: utf-8 -*-
"""exp-sdk 5.0.0 README "Content": read-only content items, their children,
delivery urls and variants. The items are uploaded first through the
server's own API (uploads.py): the SDK cannot upload.

Wire contract: shared WIRE.md B.3 (content).
"""

import exp_sdk
import pytest
import requests
from exp_sdk import api

import thingstead_compat
import uploads


def name():
    return "c-" + thingstead_compat.token_hex(6)


def payload(n=256):
    return b"\x00\x01binary\xff" + thingstead_compat.token_hex(n).encode("ascii")


@pytest.fixture
def tree(exp):
    """folder/ with a file, an app, a url item and a subfolder holding a file."""
    folder = uploads.create_content(exp, {"name": name(), "subtype": "scala:content:folder"})
    sub = uploads.create_content(exp, {"name": name(), "subtype": "scala:content:folder", "parent": folder["uuid"]})
    file_bytes, app_bytes, deep_bytes = payload(), payload(512), payload(32)
    t = {
        "folder": folder,
        "sub": sub,
        "file": uploads.upload_file(exp, name() + u" r\u00e9sum\u00e9.bin", file_bytes, parent=folder["uuid"]),
        "app": uploads.upload_file(exp, name() + ".zip", app_bytes, parent=folder["uuid"],
                                   subtype="scala:content:app", media_type="application/zip"),
        "url": uploads.create_content(exp, {"name": name(), "subtype": "scala:content:url",
                                            "url": "https://example.com/page?a=1", "parent": folder["uuid"]}),
        "deep": uploads.upload_file(exp, name(), deep_bytes, parent=sub["uuid"]),
        "bytes": {"file": file_bytes, "app": app_bytes, "deep": deep_bytes},
    }
    return t


def test_exp_get_content(exp, tree):
    item = exp.get_content(tree["file"]["uuid"])
    assert isinstance(item, api.Content)
    assert item.uuid == tree["file"]["uuid"]
    assert item.subtype == "scala:content:file"
    assert exp.get_content("00000000-0000-4000-8000-000000000000") is None
    assert exp.get_content() is None


def test_exp_find_content(exp, tree):
    everything = exp.find_content()
    uuids = [c.uuid for c in everything]
    for k in ("folder", "sub", "file", "app", "url", "deep"):
        assert tree[k]["uuid"] in uuids
    assert all(c.subtype for c in everything)
    for subtype in ("scala:content:folder", "scala:content:file", "scala:content:app", "scala:content:url"):
        found = exp.find_content({"subtype": subtype})
        assert found.total >= 1
        assert all(c.subtype == subtype for c in found)


def test_content_get_children(exp, tree):
    folder = exp.get_content(tree["folder"]["uuid"])
    children = folder.get_children()
    assert sorted(c.uuid for c in children) == sorted(tree[k]["uuid"] for k in ("sub", "file", "app", "url"))
    assert children.total == 4
    folders = folder.get_children({"subtype": "scala:content:folder"})
    assert [c.uuid for c in folders] == [tree["sub"]["uuid"]]
    assert [c.uuid for c in folders[0].get_children()] == [tree["deep"]["uuid"]]


@pytest.mark.parametrize("which", ["file", "app", "deep"])
def test_content_get_url(exp, tree, which):
    """get_url() of file and app items is {host}/api/delivery/{quoted path}?_rt=...;
    a plain GET (no Authorization header) serves the uploaded bytes."""
    item = exp.get_content(tree[which]["uuid"])
    url = item.get_url()
    assert url.startswith(exp._sdk.options["host"] + "/api/delivery/"), url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    assert r.content == tree["bytes"][which]


def test_content_get_url_needs_the_restricted_token(exp, tree):
    url = exp.get_content(tree["file"]["uuid"]).get_url()
    bad = url.split("?_rt=")[0] + "?_rt=not-a-token"
    assert requests.get(bad, timeout=10).status_code in (401, 403)
    assert requests.get(url.split("?_rt=")[0], timeout=10).status_code in (401, 403)


def test_content_get_url_of_url_item(exp, tree):
    assert exp.get_content(tree["url"]["uuid"]).get_url() == "https://example.com/page?a=1"


def test_content_get_url_of_folder_is_none(exp, tree):
    assert exp.get_content(tree["folder"]["uuid"]).get_url() is None


def test_content_has_variant_and_get_variant_url(exp, tree):
    """A variant uploaded for an item shows in its document; get_variant_url()
    is the delivery url + '&variant=' (the SDK forgets the name), which
    serves the item's own bytes."""
    uuid = tree["file"]["uuid"]
    uploads.put_content_data(exp, uuid, b"small variant", "image/png", variant="thumb")
    item = exp.get_content(uuid)
    assert item.has_variant("thumb")
    assert not item.has_variant("not a variant")
    url = item.get_variant_url("thumb")
    assert url == item.get_url() + "&variant="
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == tree["bytes"]["file"]
    # The variant itself, with its name, as the JS SDK asks for it.
    r = requests.get(url + "thumb", timeout=10)
    assert r.status_code == 200 and r.content == b"small variant"


def test_content_save_is_not_supported(exp, tree):
    with pytest.raises(NotImplementedError):
        exp.get_content(tree["file"]["uuid"]).save()


def test_content_refresh(exp, tree):
    item = exp.get_content(tree["file"]["uuid"])
    before = dict(item.document)
    item.refresh()
    assert item.document["uuid"] == before["uuid"]


def test_content_of_another_organization(exp, tree, other_org):
    other = other_org.start_user()
    assert other.get_content(tree["file"]["uuid"]) is None
    assert tree["file"]["uuid"] not in [c.uuid for c in other.find_content()]
    # The other organization's restricted token does not open this one's bytes.
    url = exp.get_content(tree["file"]["uuid"]).get_url()
    stolen = url.split("?_rt=")[0] + "?_rt=" + other.get_auth()["restrictedToken"]
    assert requests.get(stolen, timeout=10).status_code in (401, 403, 404)


def test_content_delete(exp, tree):
    """Content items inherit delete(); a deleted folder takes its children."""
    exp.get_content(tree["sub"]["uuid"]).delete()
    assert exp.get_content(tree["sub"]["uuid"]) is None
    assert exp.get_content(tree["deep"]["uuid"]) is None
    try:
        exp.get_content(tree["file"]["uuid"]).delete()
    except exp_sdk.ApiError as e:
        pytest.fail("delete of a file item failed: %s" % e)
    assert exp.get_content(tree["file"]["uuid"]) is None
