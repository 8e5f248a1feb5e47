"""exp-sdk 5.0.0 README "Feeds": exp.create_feed/find_feeds and
feed.get_data(**params), static and dynamic.

The README's example feed (`scala:feed:weather`) is a connector of the
original cloud; Thingstead's feeds with data are the built-in device
messages feed (`thingstead:feed:messages`) and the HTTP JSON feed
(`thingstead:feed:http`), here fetching from a local HTTP server (the
session's config allows 127.0.0.1/32 in `feeds.allowed_networks`).

Wire contract: shared WIRE.md B.3 (feed data).
"""

import json
import socket
import threading
import urlparse
from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer

import pytest

import thingstead_compat


def name():
    return "n-" + thingstead_compat.token_hex(8)


def send_device_message(server, devicekey, data, topics):
    """One message over the device face (WIRE.md C.2), as hologram-python sends it."""
    frame = json.dumps({"k": devicekey, "d": data, "t": topics}) + "\r\r"
    s = socket.create_connection((server.device_host, server.device_port), timeout=10)
    try:
        s.sendall(frame.encode("utf-8"))
        reply = s.recv(64)
    finally:
        s.close()
    assert reply == b"[0,0]", reply


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        query = dict(urlparse.parse_qsl(urlparse.urlsplit(self.path).query))
        body = json.dumps({"source": "local", "query": query}).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_source():
    httpd = HTTPServer(("127.0.0.1", 0), _Echo)
    t = threading.Thread(target=httpd.serve_forever)
    t.daemon = True
    t.start()
    try:
        yield "http://127.0.0.1:%d/feed.json" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_exp_create_feed(exp):
    """The README's example document."""
    feed = exp.create_feed({"subtype": "scala:feed:weather", "searchValue": "16902", "name": "My Weather Feed"})
    assert feed.uuid and feed.name == "My Weather Feed"
    assert feed.document["subtype"] == "scala:feed:weather"


def test_exp_find_feeds_by_subtype(exp):
    weather = exp.create_feed({"subtype": "scala:feed:weather", "searchValue": "16902", "name": name()})
    exp.create_feed({"subtype": "thingstead:feed:http", "url": "http://127.0.0.1:9/x", "name": name()})
    found = exp.find_feeds({"subtype": "scala:feed:weather"})
    assert [f.uuid for f in found] == [weather.uuid]


def test_feed_get_data(exp, org):
    """The built-in feed answers the device's latest messages."""
    send_device_message(org.server, org.device["devicekey"], "first", ["t1"])
    send_device_message(org.server, org.device["devicekey"], u"second \u00fc", ["t1", "t2"])
    feed = exp.create_feed({"subtype": "thingstead:feed:messages", "device": org.device["uuid"], "name": name()})
    data = feed.get_data()
    assert isinstance(data, dict)
    assert [m["data"] for m in data["messages"]] == [u"second \u00fc", "first"]
    assert data["messages"][0]["topics"] == ["t1", "t2"]
    assert [m["data"] for m in feed.get_data(limit="1")["messages"]] == [u"second \u00fc"]


def test_feed_get_data_http(exp, http_source):
    """An HTTP JSON feed: the server fetches the url, passing the query parameters on."""
    feed = exp.create_feed({"subtype": "thingstead:feed:http", "url": http_source, "name": name()})
    data = feed.get_data(city="Lyon")
    assert data["source"] == "local"
    assert data["query"]["city"] == "Lyon"


def test_feed_get_data_dynamic(exp, http_source):
    """For a dynamic feed the query parameters select the data; the search
    value comes back as data.search.search (the SDK's own test relies on it)."""
    feed = exp.create_feed({"subtype": "thingstead:feed:http", "url": http_source, "searchValue": "",
                            "dataType": "dynamic", "name": name()})
    data = feed.get_data(searchValue="19713")
    assert data["search"]["search"] == "19713"
    assert data["query"]["searchValue"] == "19713"
    assert feed.get_data(searchValue="a b&c")["search"]["search"] == "a b&c"


def test_feed_get_data_dynamic_messages(exp, org):
    feed = exp.create_feed({"subtype": "thingstead:feed:messages", "device": org.device["uuid"],
                            "dataType": "dynamic", "name": name()})
    assert feed.get_data(searchValue="19713")["search"]["search"] == "19713"
