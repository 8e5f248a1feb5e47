"""exp-sdk 5.0.0 README "Feeds": feed.get_data(**params), static and dynamic.

Wire contract: shared WIRE.md B.3 (feed data).
"""

import thingstead_compat


def name():
    return "n-" + thingstead_compat.token_hex(8)


def test_exp_create_feed(exp):
    """The README's example document."""
    feed = exp.create_feed({"subtype": "scala:feed:weather", "searchValue": "16902", "name": "My Weather Feed"})
    assert feed.uuid and feed.name == "My Weather Feed"
    assert feed.document["subtype"] == "scala:feed:weather"


def test_exp_find_feeds_by_subtype(exp):
    weather = exp.create_feed({"subtype": "scala:feed:weather", "searchValue": "16902", "name": name()})
    found = exp.find_feeds({"subtype": "scala:feed:weather"})
    assert weather.uuid in [f.uuid for f in found]
    assert all(f.document["subtype"] == "scala:feed:weather" for f in found)


def test_feed_get_data(exp):
    feed = exp.create_feed({"subtype": "scala:feed:weather", "dataType": "static", "searchValue": "19713",
                            "name": name()})
    assert isinstance(feed.get_data(), dict)


def test_feed_get_data_dynamic(exp):
    """For a dynamic feed the query parameters select the data; the search
    value comes back as data.search.search (the SDK's own test relies on it)."""
    feed = exp.create_feed({"subtype": "scala:feed:weather", "searchValue": "", "dataType": "dynamic",
                            "name": name()})
    data = feed.get_data(searchValue="19713")
    assert data["search"]["search"] == "19713"
    assert feed.get_data(searchValue="a b&c")["search"]["search"] == "a b&c"
