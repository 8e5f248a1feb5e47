"""iots 0.5.0 against thingstead: `communications().email().send(...)`
(WIRE.md A.3) goes through the server's SMTP relay, a real aiosmtpd started
by conftest.py (`mail_relay`), and arrives there.
"""

import uuid

import pytest

from iots.models import models
from iots.models.exceptions import ResponseError


def api_with(space, scopes):
    client = space.client(scopes=scopes)
    return space.api().set_credentials(client["client_id"], client["client_secret"], scopes=list(scopes))


def bodies(message):
    """{content type: decoded text} of a message's parts."""
    parts = message.walk() if message.is_multipart() else [message]
    return {
        p.get_content_type(): p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
        for p in parts
        if not p.is_multipart()
    }


def test_mail_sent_through_the_sdk_arrives_at_the_relay(space, mail_relay):
    api = api_with(space, ("email",))
    subject = "Pump alarm %s" % uuid.uuid4().hex[:8]
    resp = api.spaces(space.name).communications().email().send({
        "to": ["ops@example.com", "lead@example.com"],
        "cc": ["audit@example.com"],
        "bcc": ["hidden@example.com"],
        "subject": subject,
        "body": {"text": "pressure is high", "html": "<p>pressure is <b>high</b></p>"},
    })
    assert resp.http_response().status_code == 202
    [(sender, recipients, message)] = mail_relay.with_subject(subject)
    assert sender == "iot@thingstead.test"
    assert sorted(recipients) == sorted(
        ["ops@example.com", "lead@example.com", "audit@example.com", "hidden@example.com"]
    )
    assert message["To"] == "ops@example.com, lead@example.com"
    assert message["Cc"] == "audit@example.com"
    assert message["Bcc"] is None
    assert message.get_content_type() == "multipart/alternative"
    got = bodies(message)
    assert got["text/plain"].strip() == "pressure is high"
    assert got["text/html"].strip() == "<p>pressure is <b>high</b></p>"


def test_the_sdks_email_model_with_unset_fields_sends_a_text_mail(space, mail_relay):
    api = api_with(space, ("email",))
    subject = "Model %s" % uuid.uuid4().hex[:8]
    req = models.Email(to=["ops@example.com"], subject=subject, body=models.EmailBody(text="from the model"))
    resp = api.spaces(space.name).communications().email().send(req)
    assert resp.http_response().status_code == 202
    [(_, recipients, message)] = mail_relay.with_subject(subject)
    assert recipients == ["ops@example.com"]
    assert message.get_content_type() == "text/plain"
    assert bodies(message)["text/plain"].strip() == "from the model"


def test_without_the_email_scope_or_with_bad_addresses_send_raises_response_error(space, mail_relay):
    subject = "Refused %s" % uuid.uuid4().hex[:8]
    things_only = api_with(space, ("thing",))
    with pytest.raises(ResponseError) as raised:
        things_only.spaces(space.name).communications().email().send({"to": ["ops@example.com"], "subject": subject})
    assert raised.value.http_response().status_code == 403
    api = api_with(space, ("email",))
    for body in (
        {"to": ["not an address"], "subject": subject},
        {"to": ["ops@example.com"], "subject": subject + "\r\nBcc: victim@example.com"},
    ):
        with pytest.raises(ResponseError) as raised:
            api.spaces(space.name).communications().email().send(body)
        response = raised.value.http_response()
        assert response.status_code == 400
        assert response.json()["error"]["status"] == 400
    assert mail_relay.with_subject(subject) == []
