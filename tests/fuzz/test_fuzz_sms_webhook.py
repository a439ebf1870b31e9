"""The SMS webhook fuzzed with *validly signed* requests (twilio's own RequestValidator
computes the signature, so the fuzzer gets past authentication to the parser and the
intake). Promise: never a 5xx; a signed message with a usable sender is answered 200
with TwiML and stored once (the same MessageSid again changes nothing)."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select
from support.fuzzing import BASE, TWILIO_TOKEN, bounded
from support.panels import Panels
from twilio.request_validator import RequestValidator

from callcenter.sms.models import SmsMessage

URL = BASE + "/sms/twilio/inbound"
SENDERS = st.one_of(st.sampled_from(["+989131234567", "09121112233", "+98 913 000 1111"]),
                    st.text(max_size=20))
BODIES = st.one_of(st.text(max_size=200), st.sampled_from(["لغو", "STOP", "3", "۵",
                                                           "1234567", "۱۲۳۴۵۶۷", ""]))
SIDS = st.text(alphabet="SMabcdef0123456789", min_size=1, max_size=80)


def post(app: Panels, params: dict[str, str]):  # type: ignore[no-untyped-def]
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(URL, params)
    return app.client.post("/sms/twilio/inbound", content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


@bounded(150)
@given(sid=SIDS, sender=SENDERS, body=BODIES,
       extra=st.dictionaries(st.sampled_from(["NumMedia", "AccountSid", "Junk"]),
                             st.text(max_size=10), max_size=3))
def test_fuzzed_signed_messages(app: Panels, sid: str, sender: str, body: str,
                                extra: dict[str, str]) -> None:
    params = {"MessageSid": sid, "From": sender, "To": "+98137", "Body": body, **extra}
    first = post(app, params)
    assert first.status_code in {200, 413, 422}, (params, first.status_code, first.text)
    if first.status_code != 200:
        return
    assert first.headers["content-type"].startswith("application/xml")
    again = post(app, params)
    assert again.status_code == 200 and again.text == first.text  # a replay: same answer
    with Session(app.services.engine) as session:
        stored = session.exec(select(SmsMessage).where(
            col(SmsMessage.twilio_sid).in_([sid, f"{sid}:reply"]))).all()
    assert len(stored) == 2, stored  # the message in, the reply out: once each


@bounded(60)
@given(signature=st.text(max_size=40), body=BODIES)
def test_fuzzed_forged_signatures_are_403(app: Panels, signature: str, body: str) -> None:
    params = {"MessageSid": "SMforged", "From": "+989131234567", "To": "+98137",
              "Body": body}
    resp = app.client.post("/sms/twilio/inbound", content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature.encode()})
    assert resp.status_code == 403, resp.text
