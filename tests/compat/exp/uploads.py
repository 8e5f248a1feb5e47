"""Uploads through the server's own API, with `requests` and the SDK
instance's token: exp-sdk 5.0.0 reads content and layouts but cannot upload
them. The routes are those of the app face's content module
(crates/server/src/faces/app/content/mod.rs, whose rustdoc lists them).
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
    """Replaces the bytes of a file or app item (PUT /api/content/{uuid}/data),
    or adds one of its variants (PUT /api/content/{uuid}/variants/{name})."""
    headers = dict(_auth(exp), **{"Content-Type": media_type})
    path = "/api/content/%s/variants/%s" % (uuid, variant) if variant else "/api/content/%s/data" % uuid
    return _check(requests.put(_url(exp, path), data=data, headers=headers, timeout=30))


def upload_file(exp, name, data, parent=None, subtype="scala:content:file", media_type="application/octet-stream"):
    """A file (or app) item with its bytes in one request
    (POST /api/content/upload?name=&parent=&subtype=); returns its document."""
    params = {"name": name, "subtype": subtype}
    if parent:
        params["parent"] = parent
    headers = dict(_auth(exp), **{"Content-Type": media_type})
    return _check(requests.post(_url(exp, "/api/content/upload"), params=params, data=data, headers=headers,
                                timeout=30))
