"""exp-sdk 5.0.0 README "Runtime": starting with each kind of credentials,
bad credentials, the authentication payload and its refresh, stopping.

Wire contract: shared WIRE.md B.2.
"""

import time

import exp_sdk
import pytest
import requests


def assert_auth_payload(auth, kind, org, uuid=None):
    assert isinstance(auth, dict), auth
    assert isinstance(auth.get("token"), basestring) and auth["token"], auth  # noqa: F821 (Python 2)
    assert isinstance(auth.get("restrictedToken"), basestring) and auth["restrictedToken"], auth  # noqa: F821
    # Absolute expiry in epoch milliseconds, in the future (WIRE.md B.2).
    now_ms = time.time() * 1000
    assert now_ms < auth["expiration"] < now_ms + 366 * 24 * 3600 * 1000, auth
    identity = auth["identity"]
    assert identity["type"] == kind, identity
    assert identity["organization"] == org, identity
    if uuid is not None:
        assert identity["uuid"] == uuid, identity


def token_status(host, token):
    """Status of an authenticated call (POST /api/auth/token) with `token`."""
    return requests.post(host + "/api/auth/token", headers={"Authorization": "Bearer " + token}, timeout=10).status_code


def test_start_user(org):
    exp = exp_sdk.start(host=org.host, enable_network=False, **org.user)
    try:
        assert_auth_payload(exp.get_auth(), "user", org.name)
    finally:
        exp.stop()


def test_start_device(org):
    exp = exp_sdk.start(host=org.host, enable_network=False, uuid=org.device["uuid"], secret=org.device["secret"])
    try:
        assert_auth_payload(exp.get_auth(), "device", org.name, org.device["uuid"])
    finally:
        exp.stop()


def test_start_consumer_app(org):
    exp = exp_sdk.start(host=org.host, enable_network=False, uuid=org.app["uuid"], api_key=org.app["api_key"])
    try:
        assert_auth_payload(exp.get_auth(), "consumerApp", org.name, org.app["uuid"])
    finally:
        exp.stop()


@pytest.mark.parametrize("which", ["user_password", "user_organization", "device_secret", "device_uuid",
                                   "consumer_api_key"])
def test_start_bad_credentials_raise_authentication_error(org, which):
    creds = {
        "user_password": dict(org.user, password="wrong-password"),
        "user_organization": dict(org.user, organization=org.name + "-nope"),
        "device_secret": {"uuid": org.device["uuid"], "secret": "0" * 64},
        "device_uuid": {"uuid": "00000000-0000-4000-8000-000000000000", "secret": org.device["secret"]},
        "consumer_api_key": {"uuid": org.app["uuid"], "api_key": "0" * 64},
    }[which]
    with pytest.raises(exp_sdk.AuthenticationError):
        exp_sdk.start(host=org.host, enable_network=False, **creds)


def test_start_inconsistent_options_raise_runtime_error(org):
    with pytest.raises(exp_sdk.RuntimeError):
        exp_sdk.start(host=org.host, enable_network=False, username=org.user["username"])
    with pytest.raises(exp_sdk.RuntimeError):
        exp_sdk.start(host=org.host, enable_network=False, secret=org.device["secret"])


def test_get_auth_refresh(org):
    """The SDK refreshes with POST /api/auth/token once ~75 % of the token's
    lifetime has passed. The server's token lifetime is an hour, so the test
    moves the SDK's refresh time (Authenticator._time) into the past and
    forbids a fresh login: get_auth() must go through the refresh path."""
    exp = org.start_user()
    before = exp.get_auth()
    authenticator = exp._sdk.authenticator

    def no_login():
        raise AssertionError("the SDK logged in again instead of refreshing")

    authenticator._login = no_login
    authenticator._time = 0
    after = exp.get_auth()
    assert authenticator._time > time.time(), "the refreshed payload did not move the refresh time forward"
    assert_auth_payload(after, "user", org.name)
    assert after["expiration"] >= before["expiration"]
    assert token_status(org.host, after["token"]) == 200


def test_get_auth_refresh_device(org):
    exp = org.start_device()
    authenticator = exp._sdk.authenticator
    authenticator._time = 0
    after = exp.get_auth()
    assert_auth_payload(after, "device", org.name, org.device["uuid"])
    assert token_status(org.host, after["token"]) == 200


def test_invalid_token_gets_401(org):
    r = requests.post(org.host + "/api/auth/token", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert r.status_code == 401, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body, dict) and "code" in body and "message" in body, body


def test_stop(org):
    exp = org.start_user()
    exp.stop()
    with pytest.raises(exp_sdk.RuntimeError):
        exp.get_auth()
    with pytest.raises(exp_sdk.RuntimeError):
        exp.create_device()


def test_exp_sdk_stop_stops_all_instances(org):
    exp_1 = org.start_user()
    exp_2 = org.start_device()
    exp_sdk.stop()
    for exp in (exp_1, exp_2):
        with pytest.raises(exp_sdk.RuntimeError):
            exp.get_auth()
    # New instances can still be created.
    assert org.start_consumer().get_auth()["identity"]["type"] == "consumerApp"


def test_start_allow_pairing(org):
    """README: `allow_pairing=True` with empty device credentials starts the
    SDK in pairing mode; once a user pairs it to a device, its next token
    refresh makes it that device."""
    exp = org.start(allow_pairing=True)
    waiting = exp.get_auth()
    assert waiting["identity"]["type"] == "pairing", waiting
    pairing_id = waiting["identity"]["uuid"]
    assert exp.get_current_device() is None
    user = org.start_user()
    user.post("/api/devices/%s/pair" % org.device["uuid"], {"pairingId": pairing_id})
    exp._sdk.authenticator._time = 0  # the refresh the SDK makes within the (short) pairing session
    paired = exp.get_auth()
    assert_auth_payload(paired, "device", org.name, org.device["uuid"])
    assert exp.get_current_device().uuid == org.device["uuid"]


def test_start_allow_pairing_with_invalid_credentials(org):
    """README: "If True, invalid or empty device credentials will start the
    sdk in pairing mode"."""
    exp = org.start(allow_pairing=True, uuid=org.device["uuid"], secret="0" * 64)
    assert exp.get_auth()["identity"]["type"] == "pairing"
