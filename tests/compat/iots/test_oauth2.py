"""iots 0.5.0 against thingstead: OAuth2 client credentials, bearer tokens
and revocation (WIRE.md A.2), as the IoT Studio document uses them.

The resource routes (things, categories, ...) come later; until then a
thing that does not exist answers 404, which is what these tests read
after authentication succeeded.
"""

import pytest
import requests

from iots import API
from iots.models.exceptions import ResponseError


def token_of(api):
    """The access token an API's client-credentials strategy holds."""
    return api._security_strategy._token


def missing_thing(api, space):
    """`api.spaces(space).things("no-such-thing").get()`: the ResponseError it raises."""
    with pytest.raises(ResponseError) as raised:
        api.spaces(space).things("no-such-thing").get()
    return raised.value


def status_of(error):
    return error.http_response().status_code


def test_set_credentials_gets_a_token_that_opens_the_space(space):
    client = space.client()
    api = space.api().set_credentials(client["client_id"], client["client_secret"], scopes=[])
    assert token_of(api), "a token was fetched at set_credentials"
    assert api._security_strategy.expires_in == 3600
    err = missing_thing(api, space.name)
    assert status_of(err) == 404, err.http_response().text
    assert err.error.error.status == 404
    assert err.error.error.message


def test_requested_scopes_are_granted_and_others_refused(space):
    client = space.client(scopes=("thing", "category.read"))
    api = space.api().set_credentials(
        client["client_id"], client["client_secret"], scopes=["thing", "category.read"]
    )
    assert status_of(missing_thing(api, space.name)) == 404
    with pytest.raises(ResponseError) as raised:
        space.api().set_credentials(client["client_id"], client["client_secret"], scopes=["category"])
    assert raised.value.http_response().json()["error"] == "invalid_scope"


def test_a_bad_secret_or_unknown_client_raises_response_error(space):
    client = space.client()
    for client_id, secret in [
        (client["client_id"], "wrong-secret"),
        ("ts-nobody", client["client_secret"]),
    ]:
        with pytest.raises(ResponseError) as raised:
            space.api().set_credentials(client_id, secret, scopes=[])
        response = raised.value.http_response()
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


def test_set_token_uses_a_token_obtained_elsewhere(space):
    client = space.client()
    response = requests.post(
        space.host + "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    api = space.api().set_token(response.json()["access_token"])
    assert status_of(missing_thing(api, space.name)) == 404
    # A token that is not one: 401 in the IoT Studio error shape.
    err = missing_thing(space.api().set_token("not-a-token"), space.name)
    assert status_of(err) == 401
    assert err.error.error.status == 401


def test_revoke_token_makes_the_token_401(space):
    client = space.client()
    api = space.api().set_credentials(client["client_id"], client["client_secret"], scopes=[])
    token = token_of(api)
    assert status_of(missing_thing(api, space.name)) == 404
    api.revoke_token()
    assert token_of(api) == ""
    err = missing_thing(space.api().set_token(token), space.name)
    assert status_of(err) == 401, err.http_response().text
    assert err.error.error.status == 401
    # The same API goes on with a fresh token.
    assert status_of(missing_thing(api, space.name)) == 404
    assert token_of(api) not in ("", token)


def test_the_context_manager_revokes_on_exit(space):
    client = space.client()
    with API(host=space.host).set_credentials(client["client_id"], client["client_secret"], scopes=[]) as api:
        token = token_of(api)
        assert status_of(missing_thing(api, space.name)) == 404
    assert status_of(missing_thing(space.api().set_token(token), space.name)) == 401


def test_the_context_manager_revokes_when_the_block_raises(space):
    client = space.client()
    held = []
    with pytest.raises(KeyError):
        with API(host=space.host).set_credentials(client["client_id"], client["client_secret"], scopes=[]) as api:
            held.append(token_of(api))
            raise KeyError("inside the block")
    assert status_of(missing_thing(space.api().set_token(held[0]), space.name)) == 401


def test_another_spaces_token_is_forbidden(space, other_space):
    client = space.client()
    api = space.api().set_credentials(client["client_id"], client["client_secret"], scopes=[])
    err = missing_thing(api, other_space.name)
    assert status_of(err) == 403
    assert err.error.error.status == 403


def test_a_token_before_every_request_is_fine(space):
    """A large refresh threshold makes iots ask for a token before each request."""
    client = space.client()
    api = space.api().set_credentials(
        client["client_id"], client["client_secret"], scopes=[], refresh_threshold=10 ** 9
    )
    seen = set()
    for _ in range(20):
        assert status_of(missing_thing(api, space.name)) == 404
        seen.add(token_of(api))
    assert len(seen) == 20, "a new token each time"
