"""Uploads through the server's own API, with `requests` and the SDK
instance's token: exp-sdk 5.0.0 reads content and layouts but cannot upload
them. The routes are those of the app face's content and layout handlers
(crates/server/src/faces/app/; see their rustdoc).
"""

import json

import requests


def _auth(exp):
    return {"Authorization": "Bearer " + exp.get_auth()["token"]}


def _url(exp, path):
    return exp._sdk.options["host"] + path


def _check(r):
    if r.status_code >= 400:
        raise AssertionError("%s %s -> %s %s" % (r.request.method, r.request.url, r.status_code, r.text[:300]))
    try:
        return r.json()
    except ValueError:
        return None


def put_layout(exp, location_uuid, data, media_type):
    """Stores the layout image of a location."""
    headers = dict(_auth(exp), **{"Content-Type": media_type})
    return _check(requests.put(_url(exp, "/api/locations/%s/layout" % location_uuid),
                               data=data, headers=headers, timeout=30))


def create_content(exp, document):
    """Creates a folder or url item (or a file/app item whose bytes follow)."""
    headers = dict(_auth(exp), **{"Content-Type": "application/json"})
    return _check(requests.post(_url(exp, "/api/content"), data=json.dumps(document), headers=headers, timeout=30))


def put_content_data(exp, uuid, data, media_type="application/octet-stream", variant=None):
    """Sets the bytes of a file or app item, or of one of its variants."""
    headers = dict(_auth(exp), **{"Content-Type": media_type})
    params = {"variant": variant} if variant else None
    return _check(requests.put(_url(exp, "/api/content/%s/data" % uuid), data=data, params=params,
                               headers=headers, timeout=30))


def upload_file(exp, name, data, parent=None, subtype="scala:content:file", media_type="application/octet-stream"):
    """A file (or app) item with its bytes; returns its document."""
    document = {"name": name, "subtype": subtype}
    if parent:
        document["parent"] = parent
    item = create_content(exp, document)
    put_content_data(exp, item["uuid"], data, media_type)
    return item
