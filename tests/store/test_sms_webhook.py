"""SMS in through Twilio's webhook, over the real app, on SQLite and PostgreSQL: signed
and forged, replayed, malformed and oversized, every kind of message a citizen sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from callcenter.app import create_app
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.followups.models import Task, TaskKind, TaskState
from callcenter.intake.services import file_request
from callcenter.settings import Settings
from callcenter.sms.models import SmsMessage

TOKEN = "test-twilio-token"
Client = httpx.AsyncClient
BASE = "https://cc137.yazd.example"
URL = BASE + "/sms/twilio/inbound"


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(environment="test",
                        database_url=engine.url.render_as_string(hide_password=False),
                        twilio_auth_token=TOKEN, public_base_url=BASE)
    app = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as test_client:
        yield test_client
    app.state.services.engine.dispose()


async def _post(client: Client, params: dict[str, str], *, token: str = TOKEN,
                signature: str | None = None) -> httpx.Response:
    sig = signature if signature is not None else (
        RequestValidator(token).compute_signature(URL, params))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Twilio-Signature"] = sig
    return await client.post("/sms/twilio/inbound", content=urlencode(params),
                             headers=headers)


def _sms(body: str, sid: str = "SM0001", sender: str = "+989131234567") -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+98137", "Body": body,
            "AccountSid": "AC1", "NumMedia": "0"}


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (len(s.exec(select(CitizenRequest)).all()), len(s.exec(select(Citizen)).all()),
                len(s.exec(select(SmsMessage)).all()))


async def test_text_files_an_sms_request_for_triage_and_replies_with_the_code(
    client: Client, engine: Engine
) -> None:
    """Tried: a signed Persian message naming no category's words; expect 200 TwiML with
    the tracking code in Persian digits, one request channel sms / category other /
    needs_triage with its triage task, in and out logged."""
    resp = await _post(client, _sms("لطفا یکی با من تماس بگیرد"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
    with Session(engine) as s:
        [request] = s.exec(select(CitizenRequest)).all()
        assert (request.channel, request.category_code, request.needs_triage) == (
            "sms", "other", True)
        assert request.description == "لطفا یکی با من تماس بگیرد"
        [task] = s.exec(select(Task).where(Task.kind == TaskKind.TRIAGE)).all()
        assert task.request_id == request.id
        code_fa = request.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        assert code_fa in resp.text
        directions = sorted(m.direction for m in s.exec(select(SmsMessage)).all())
        assert directions == ["in", "out"]


@pytest.mark.parametrize(("body", "category"), [
    ("لامپ کوچه ما سوخته است", "traffic"),
    ("زباله‌ها سه روز است جمع نشده", "waste"),
    ("The streetlight on our road is broken", "traffic"),
    ("Fallen TREES in the park", "parks"),
])
async def test_text_naming_a_category_is_filed_there_with_the_code(
    client: Client, engine: Engine, body: str, category: str
) -> None:
    """Tried: messages naming one category's keywords (Persian with suffixes, English in
    any case); expect that category, its department, no triage, the code in the reply."""
    resp = await _post(client, _sms(body))
    assert resp.status_code == 200
    with Session(engine) as s:
        [request] = s.exec(select(CitizenRequest)).all()
        assert (request.category_code, request.needs_triage) == (category, False)
        assert request.department_code == category
        code_fa = request.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        assert code_fa in resp.text
        assert s.exec(select(Task).where(Task.kind == TaskKind.TRIAGE)).all() == []


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "forged"])
async def test_forged_or_missing_signature_is_403_and_changes_nothing(
    client: Client, engine: Engine, signature: str
) -> None:
    """Tried: no X-Twilio-Signature, a base64 garbage one, and one signed with the wrong
    token; expect 403 each time and no request, citizen or message stored."""
    if signature == "forged":
        signature = RequestValidator("someone-else").compute_signature(URL, _sms("x"))
    resp = await _post(client, _sms("x"), signature=signature)
    assert resp.status_code == 403 and resp.json()["error"] == "bad-signature"
    assert _counts(engine) == (0, 0, 0)


async def test_signature_over_other_params_is_rejected(client: Client, engine: Engine) -> None:
    """Tried: a valid signature for one body replayed with a changed Body; expect 403."""
    good = RequestValidator(TOKEN).compute_signature(URL, _sms("original"))
    resp = await _post(client, _sms("tampered"), signature=good)
    assert resp.status_code == 403 and _counts(engine) == (0, 0, 0)


async def test_replayed_webhook_changes_nothing_and_repeats_the_reply(
    client: Client, engine: Engine
) -> None:
    """Tried: the same signed webhook (same MessageSid) three times; expect one request,
    two message rows, and the same reply each time."""
    replies = [(await _post(client, _sms("آب گرفتگی خیابان"))).text for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert _counts(engine) == (1, 1, 2)


async def test_a_full_1600_character_persian_sms_is_kept_whole_and_1601_refused(
    client: Client, engine: Engine
) -> None:
    """Tried: a 1,600-character Persian message, then a 1,601-character one; expect the
    first stored intact and the second 413 with nothing stored."""
    text = ("سلام، در محله فهادان زباله‌ها سه روز است جمع نشده. " * 40)[:1600]
    assert len(text) == 1600
    assert (await _post(client, _sms(text, sid="SMlong"))).status_code == 200
    resp = await _post(client, _sms(text + "ب", sid="SMlonger"))
    assert resp.status_code == 413
    with Session(engine) as s:
        [request] = s.exec(select(CitizenRequest)).all()
        assert request.description == text
    assert _counts(engine) == (1, 1, 2)


async def test_oversized_and_malformed_bodies_are_refused(client: Client, engine: Engine) -> None:
    """Tried: a 100 KB body, bytes that are not UTF-8, and a signed form without
    MessageSid; expect 413, 422 and 422, and nothing stored."""
    big = await client.post("/sms/twilio/inbound", content=b"Body=" + b"a" * 100_000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    bad = await client.post("/sms/twilio/inbound", content=b"\xff\xfe=\xff",
                      headers={"X-Twilio-Signature": "x"})
    assert bad.status_code == 422
    params = _sms("x")
    del params["MessageSid"]
    assert (await _post(client, params)).status_code == 422
    assert _counts(engine) == (0, 0, 0)


@pytest.mark.parametrize("sender", ["+989131234567", "989131234567", "09131234567",
                                    "00989131234567", "9131234567", "۰۹۱۳۱۲۳۴۵۶۷",
                                    "+۹۸۹۱۳۱۲۳۴۵۶۷"])
async def test_every_iranian_sender_format_is_the_same_citizen(
    client: Client, engine: Engine, sender: str
) -> None:
    """Tried: the From number in each Iranian format (Latin and Persian digits) after an
    app request by 0913...; expect the SMS to land on that same citizen."""
    with Session(engine) as s:
        file_request(session=s, phone="09131234567", channel="app", category_code="parks")
        s.commit()
    assert (await _post(client, _sms("درخت خشک شده", sender=sender))).status_code == 200
    with Session(engine) as s:
        assert [c.phone for c in s.exec(select(Citizen)).all()] == ["+989131234567"]


async def test_a_foreign_or_garbage_sender_is_refused_clearly(client: Client, engine: Engine
                                                        ) -> None:
    """Tried: From = 'abc'; expect 422 invalid-phone and no request."""
    resp = await _post(client, _sms("x", sender="abc"))
    assert resp.status_code == 422 and resp.json()["error"] == "invalid-phone"
    assert _counts(engine)[0] == 0


async def test_tracking_code_gets_the_status_and_unknown_code_a_hint(
    client: Client, engine: Engine
) -> None:
    """Tried: the citizen texts a real code (in Persian digits), then a code with a wrong
    check digit; expect the status and department, then the 'not found' text."""
    with Session(engine) as s:
        request = file_request(session=s, phone="09131234567", channel="phone",
                               category_code="waste").request
        s.commit()
        code = request.tracking_code
    fa = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    reply = (await _post(client, _sms(fa, sid="SMa"))).text
    assert "ارجاع به واحد مسئول" in reply and "سازمان مدیریت پسماند" in reply
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert "یافت نشد" in (await _post(client, _sms(wrong, sid="SMb"))).text
    assert _counts(engine)[0] == 1


@pytest.mark.parametrize("word", ["لغو", "STOP", "stop", " لغو. "])
async def test_stop_words_opt_the_citizen_out(client: Client, engine: Engine, word: str) -> None:
    """Tried: 'لغو' / STOP in several spellings; expect opted_out and no request filed."""
    assert (await _post(client, _sms(word))).status_code == 200
    with Session(engine) as s:
        [citizen] = s.exec(select(Citizen)).all()
        assert citizen.opted_out and citizen.opted_out_at is not None
    assert _counts(engine)[0] == 0


async def test_a_digit_answers_a_pending_survey_else_a_hint(client: Client, engine: Engine
                                                      ) -> None:
    """Tried: '۴' with no survey pending (hint, nothing stored), then with a waiting SMS
    survey task (rating 4 stored on the request, task done), then '7' (out of range)."""
    assert "نظرسنجی فعالی" in (await _post(client, _sms("۴", sid="SM1"))).text
    with Session(engine) as s:
        request = file_request(session=s, phone="09131234567", channel="phone",
                               category_code="waste").request
        s.add(Task(kind=TaskKind.SURVEY_SMS, state=TaskState.WAITING,
                   request_id=request.id, citizen_id=request.citizen_id))
        s.commit()
        request_id = request.id
    assert "نظرسنجی فعالی" in (await _post(client, _sms("7", sid="SM2"))).text
    assert "۴ از ۵" in (await _post(client, _sms("۴", sid="SM3"))).text
    with Session(engine) as s:
        answered = s.get(CitizenRequest, request_id)
        assert answered is not None
        assert (answered.survey_rating, answered.survey_channel) == (4, "sms")
        [task] = s.exec(select(Task)).all()
        assert task.state == TaskState.DONE and task.result == {
            "rating": 4, "channel": "sms", "fixed": None, "awaiting_fixed": False}


@pytest.mark.parametrize(("answer", "fixed"), [("۱", True), ("2", False)])
async def test_a_low_rating_asks_whether_it_is_fixed_before_closing(
        client: Client, engine: Engine, answer: str, fixed: bool) -> None:
    """Tried: '۲' on a waiting SMS survey; expect the "is it fixed? 1 yes 2 no" question
    and nothing stored on the request yet; then the answer stores rating and fixed."""
    with Session(engine) as s:
        request = file_request(session=s, phone="09131234567", channel="phone",
                               category_code="waste").request
        s.add(Task(kind=TaskKind.SURVEY_SMS, state=TaskState.WAITING,
                   request_id=request.id, citizen_id=request.citizen_id))
        s.commit()
        request_id = request.id
    asked = (await _post(client, _sms("۲", sid="SM10"))).text
    assert "برطرف شده" in asked and "۱ بله" in asked
    with Session(engine) as s:
        held = s.get(CitizenRequest, request_id)
        assert held is not None and held.survey_at is None  # not settled on a 2 alone
        [task] = s.exec(select(Task)).all()
        assert task.state == TaskState.WAITING and task.result == {
            "rating": 2, "awaiting_fixed": True}
    assert "۲ از ۵" in (await _post(client, _sms(answer, sid="SM11"))).text
    with Session(engine) as s:
        answered = s.get(CitizenRequest, request_id)
        assert answered is not None
        assert (answered.survey_rating, answered.survey_fixed) == (2, fixed)
        [task] = s.exec(select(Task)).all()
        assert task.state == TaskState.DONE


async def test_message_sids_are_kept_whole(client: Client, engine: Engine) -> None:
    """Tried: two 70-character MessageSids sharing their first 60 characters, then one
    of 75 (refused clearly). Before, the id was cut to 60: the second message was taken
    for a replay of the first and lost, and on PostgreSQL the ":reply" id of a long sid
    overflowed the 64-character column (a 500)."""
    first, second = "SM" + "a" * 58 + "0123456789", "SM" + "a" * 58 + "9876543210"
    for sid in (first, second):
        # text no keyword classifies: each message is its own request (rule 1 needs one)
        resp = await _post(client, _sms("لطفا پیگیری کنید", sid=sid))
        assert resp.status_code == 200, resp.text
    with Session(engine) as s:
        sids = {m.twilio_sid for m in s.exec(select(SmsMessage)).all()}
    assert {first, second, f"{first}:reply", f"{second}:reply"} <= sids
    assert len(_requests_of(engine)) == 2
    too_long = await _post(client, _sms("x", sid="SM" + "b" * 73))
    assert too_long.status_code == 422


def _requests_of(engine: Engine) -> list[CitizenRequest]:
    with Session(engine) as s:
        return list(s.exec(select(CitizenRequest)).all())


def test_database_errors_carry_no_phone_numbers_or_texts(engine: Engine) -> None:
    """Tried: an insert that violates the unique MessageSid, with a phone number and an
    SMS text as parameters. Before ``hide_parameters`` the error (and so the log line)
    printed both."""
    from sqlalchemy.exc import IntegrityError

    from callcenter.sms.models import SmsDirection, SmsStatus

    def row() -> SmsMessage:
        return SmsMessage(direction=SmsDirection.INBOUND, to_phone="+98137",
                          from_phone="+989135550123", body="متن خصوصی شهروند",
                          status=SmsStatus.RECEIVED, twilio_sid="SMdup")

    with Session(engine) as s:
        s.add(row())
        s.commit()
        s.add(row())
        with pytest.raises(IntegrityError) as raised:
            s.commit()
    text = str(raised.value)
    assert "+989135550123" not in text and "متن خصوصی" not in text
    assert "hidden due to hide_parameters" in text
