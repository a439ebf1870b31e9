"""SMS survey end to end on both backends: a resolved request -> the engine sends the
survey through the intake SMS service and the real twilio client to a local HTTP
endpoint -> the citizen's signed reply webhook records the rating -> the engine closes
the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.fake_shahrbin import Answer, RecordingServer
from twilio.request_validator import RequestValidator

from callcenter.app import create_app
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import Task
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.reference.hours import Holidays
from callcenter.settings import Settings
from callcenter.sms.build import build_sms

TOKEN = "test-twilio-token"
SID = "AC" + "0" * 32
BASE = "https://cc137.yazd.example"
T0 = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # Saturday 10:30 Tehran


async def test_sms_survey_reaches_twilio_and_a_signed_reply_closes_the_request(
    engine: Engine, session: Session
) -> None:
    """Tried: resolve a request; one engine pass; the citizen answers "۴" through the
    signed webhook; another pass. Expect one POST to Messages.json carrying the tracking
    code, rating 4 by sms on the request, the task done, the request closed."""
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="parks", description="درخت افتاده")
    change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                  actor="dept")
    request.resolved_at = T0
    session.add(request)
    session.commit()
    url = engine.url.render_as_string(hide_password=False)
    created = {"sid": "SM" + "2" * 32, "status": "queued", "body": "x"}
    with RecordingServer([Answer(201, created)]) as twilio:
        settings = Settings(environment="test", database_url=url, sms_provider="twilio",
                            twilio_account_sid=SID, twilio_auth_token=TOKEN,
                            twilio_api_base_url=twilio.url, public_base_url=BASE,
                            sms_max_attempts=1)
        policy = build_policy(zone="Asia/Tehran", opens=datetime.min.time().replace(hour=9),
                              closes=datetime.min.time().replace(hour=20),
                              open_on_friday=False, cap=3, period=timedelta(days=7),
                              holidays=Holidays(yearly=frozenset(), dated=frozenset()))
        runner = FollowupRunner(engine=engine, config=RunnerConfig(survey_delay=timedelta(0)),
                                policy=policy, sms=build_sms(settings, engine),
                                clock=lambda: T0 + timedelta(minutes=1))
        report = await runner.run_due()
    assert report.as_dict()["sent"] == 1
    [posted] = twilio.requests
    assert posted.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    form = parse_qs(posted.body.decode())
    code_fa = request.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert form["To"] == ["+989131234567"] and code_fa in form["Body"][0]

    app = create_app(settings, start_parts=False)
    params = {"MessageSid": "SM" + "9" * 32, "From": "+989131234567", "To": "+98137",
              "Body": "۴", "AccountSid": SID, "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/sms/twilio/inbound", params)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        reply = await client.post("/sms/twilio/inbound", content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature})
    app.state.services.engine.dispose()
    assert reply.status_code == 200
    session.expire_all()
    stored = session.get(CitizenRequest, request.id)
    assert stored is not None
    assert (stored.survey_rating, stored.survey_channel) == (4, "sms")
    [task] = session.exec(select(Task)).all()
    assert task.state == "done"

    stored.survey_at = T0 + timedelta(minutes=2)  # the reply's time on the test clock
    session.add(stored)
    session.commit()
    settled = await runner.run_due()
    assert settled.settled == {request.id: "closed"}
    session.expire_all()
    final = session.get(CitizenRequest, request.id)
    assert final is not None and final.status == RequestStatus.CLOSED
