"""The case page, case search, triage view and their JSON actions over the real app on
both backends: roles, CSRF, the version check's 409, bad input, the timeline."""

from __future__ import annotations

import re

from sqlmodel import select
from support.panels import Panels

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task, TaskKind
from callcenter.intake.services import file_request
from callcenter.sms.models import SmsMessage


def voice_request(panels: Panels, phone: str = "09131234567") -> str:
    with session_scope(panels.services.engine) as s:
        request = file_request(session=s, phone=phone, channel="phone", category_code="waste",
                               recording_path="/var/spool/asterisk/recording/request-1.wav",
                               actor="ivr", linkedid="1700.1", district=2).request
        s.add(Call(linkedid="1700.1", uniqueid="1700.1", caller=phone,
                   citizen_id=request.citizen_id, entered_at=utcnow(), outcome="ivr_only",
                   ivr_path="menu:1>category:1>district:2>recorded", request_id=request.id))
        s.add(SmsMessage(direction="out", to_phone="+989131234567", from_phone="+98137",
                         body=f"کد پیگیری {request.tracking_code}", status="sent",
                         request_id=request.id))
        return request.tracking_code


def version_of(panels: Panels, code: str) -> int:
    return int(panels.client.get(f"/api/cases/{code}").json()["version"])


def test_triage_view_lists_the_voice_request_with_its_player(panels: Panels) -> None:
    code = voice_request(panels)
    panels.as_user("ali")
    page = panels.client.get("/triage")
    assert page.status_code == 200
    assert f'data-code="{code}"' in page.text
    assert f'<audio class="triage-recording" controls preload="none" ' \
           f'src="/api/requests/{code}/recording">' in page.text
    assert 'dir="rtl"' in page.text and "/static/casework.js" in page.text
    english = panels.client.get("/triage?lang=en")
    assert "Save and route" in english.text


def test_triage_form_reroutes_and_clears_the_task(panels: Panels) -> None:
    code = voice_request(panels)
    headers = panels.as_user("ali")
    response = panels.client.post(f"/api/cases/{code}/edit", headers=headers, json={
        "version": version_of(panels, code), "category_code": "traffic",
        "neighbourhood_code": "safaieh", "landmark": "کنار مسجد جامع",
        "description": "چراغ خاموش", "triage": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["department_code"], body["neighbourhood_code"]) == ("traffic", "safaieh")
    assert "category_code" in body["changes"] and "triaged" in body["changes"]
    case = panels.client.get(f"/api/cases/{code}").json()
    assert case["triaged_at"] and case["needs_triage"] is False
    assert [e["kind"] for e in case["history"]][-2:] == ["rerouted", "edited"]
    assert f'data-code="{code}"' not in panels.client.get("/triage").text
    with session_scope(panels.services.engine) as s:
        [task] = s.exec(select(Task).where(Task.kind == TaskKind.TRIAGE)).all()
        assert task.state == "done"


def test_stale_edit_is_409_and_nothing_is_overwritten(panels: Panels) -> None:
    code = voice_request(panels)
    headers = panels.as_user("ali")
    loaded = version_of(panels, code)
    first = panels.client.post(f"/api/cases/{code}/edit", headers=headers,
                               json={"version": loaded, "description": "علی"})
    assert first.status_code == 200
    second = panels.client.post(f"/api/cases/{code}/edit", headers=headers,
                                json={"version": loaded, "description": "رضا",
                                      "category_code": "parks"})
    assert second.status_code == 409
    assert second.json()["error"] == "stale-version"
    case = panels.client.get(f"/api/cases/{code}").json()
    assert (case["description"], case["category_code"]) == ("علی", "waste")
    stale_status = panels.client.post(f"/api/cases/{code}/status", headers=headers,
                                      json={"status": "in_progress", "version": loaded})
    assert stale_status.status_code == 409
    fresh = panels.client.post(f"/api/cases/{code}/status", headers=headers, json={
        "status": "in_progress", "version": version_of(panels, code)})
    assert fresh.status_code == 200 and fresh.json()["status"] == "in_progress"


def test_bad_triage_input_is_422_and_changes_nothing(panels: Panels) -> None:
    code = voice_request(panels)
    headers = panels.as_user("ali")
    version = version_of(panels, code)
    for body in ({"category_code": "nope"}, {"neighbourhood_code": "atlantis"},
                 {"landmark": "x" * 301}):
        response = panels.client.post(f"/api/cases/{code}/edit", headers=headers,
                                      json={"version": version, "triage": True, **body})
        assert response.status_code == 422, body
    assert version_of(panels, code) == version
    assert panels.client.post("/api/cases/12345678/edit", headers=headers,
                              json={"version": 1}).status_code == 404


def test_csrf_and_roles(panels: Panels) -> None:
    code = voice_request(panels)
    panels.as_user("ali")
    assert panels.client.post(f"/api/cases/{code}/edit",
                              json={"version": 1}).status_code == 403  # no CSRF header
    panels.as_user("mina")  # manager: reports only, never phone numbers
    assert panels.client.get(f"/cases/{code}", follow_redirects=False).status_code == 403
    assert panels.client.get("/triage", follow_redirects=False).status_code == 403
    panels.client.cookies.clear()
    assert panels.client.get(f"/cases/{code}", follow_redirects=False).status_code == 303


def test_case_page_shows_the_whole_timeline(panels: Panels) -> None:
    code = voice_request(panels)
    headers = panels.as_user("sara")
    panels.client.post(f"/api/cases/{code}/notes", headers=headers,
                       json={"note": "با شهروند تماس گرفتم"})
    page = panels.client.get(f"/cases/{code}")
    assert page.status_code == 200
    sources = set(re.findall(r'data-source="([a-z]+)"', page.text))
    assert sources >= {"history", "call", "sms", "shahrbin", "followup"}
    assert "با شهروند تماس گرفتم" in page.text
    assert "menu:۱&gt;category:۱&gt;district:۲&gt;recorded" in page.text  # the IVR path
    assert f'src="/api/requests/{code}/recording"' in page.text
    assert 'data-version="' in page.text and "/static/casework.js" in page.text
    moves = re.search(r'<form id="status-form".*?</form>', page.text, re.S)
    assert moves is not None and 'value="in_progress"' in moves.group(0)
    assert 'value="new"' not in moves.group(0)


def test_search_by_code_or_any_phone_format(panels: Panels) -> None:
    code = voice_request(panels)
    panels.as_user("ali")
    by_code = panels.client.get("/cases", params={"q": f" {code} "}, follow_redirects=False)
    assert by_code.status_code == 303 and by_code.headers["location"] == f"/cases/{code}"
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert panels.client.get("/cases", params={"q": persian},
                             follow_redirects=False).status_code == 303
    for phone in ("09131234567", "+98 913 123 4567", "۰۹۱۳۱۲۳۴۵۶۷"):
        found = panels.client.get("/cases", params={"q": phone})
        assert f'href="/cases/{code}"' in found.text, phone
    nothing = panels.client.get("/cases", params={"q": "09120000000"})
    assert 'id="search-empty"' in nothing.text
    assert 'id="search-empty"' in panels.client.get("/cases", params={"q": "zz"}).text


def test_sms_requests_show_their_text_on_the_triage_view(panels: Panels) -> None:
    with session_scope(panels.services.engine) as s:
        request = file_request(session=s, phone="09135550000", channel="sms",
                               category_code="other", description="یک موضوع نامشخص",
                               needs_triage=True, actor="sms").request
        code = request.tracking_code
    panels.as_user("reza")
    page = panels.client.get("/triage")
    assert '<blockquote class="triage-sms">یک موضوع نامشخص</blockquote>' in page.text
    assert f'data-code="{code}"' in page.text
    with session_scope(panels.services.engine) as s:
        assert s.exec(select(CitizenRequest)).first() is not None


def test_case_page_confirms_and_undoes_a_suggested_duplicate(panels: Panels) -> None:
    with session_scope(panels.services.engine) as s:
        file_request(session=s, phone="09130000001", channel="web", category_code="parks",
                     neighbourhood_code="fahadan")
        newer = file_request(session=s, phone="09130000002", channel="web",
                             category_code="parks", neighbourhood_code="fahadan")
        code, suggestion = newer.request.tracking_code, newer.suggestions[0].id
    agent = panels.as_user("ali")
    page = panels.client.get(f"/cases/{code}").text
    assert f'data-url="/intake/duplicates/{suggestion}/dismiss"' in page
    assert f"/intake/duplicates/{suggestion}/confirm" not in page  # supervisors confirm
    assert panels.client.post(f"/intake/duplicates/{suggestion}/undo",
                              headers=agent).status_code == 403
    sara = panels.as_user("sara")
    page = panels.client.get(f"/cases/{code}").text
    assert f'data-url="/intake/duplicates/{suggestion}/confirm"' in page
    assert panels.client.post(f"/intake/duplicates/{suggestion}/confirm",
                              headers=sara).status_code == 200
    page = panels.client.get(f"/cases/{code}").text
    assert f'data-url="/intake/duplicates/{suggestion}/undo"' in page
    undone = panels.client.post(f"/intake/duplicates/{suggestion}/undo", headers=sara)
    assert undone.status_code == 200 and undone.json()["status"] == "referred"
    again = panels.client.post(f"/intake/duplicates/{suggestion}/undo", headers=sara)
    assert again.status_code == 409


def test_the_agents_follow_up_list_links_triage_and_cases(panels: Panels) -> None:
    """The list is drawn by tasks.js from /api/tasks (issue 17): the voice request's
    triage task is there with its code and kind; the script links kind ``triage`` to
    /triage and every other task's code to its case page (the browser tests click it)."""
    code = voice_request(panels)
    panels.as_user("ali")
    page = panels.client.get("/agent").text
    tasks = panels.client.get("/api/tasks").json()
    triage = [t for t in tasks if t["kind"] == "triage"]
    assert [t["tracking_code"] for t in triage] == [code], tasks
    assert "/static/tasks.js" in page
    assert 'href="/triage"' in page and 'href="/cases"' in page  # the top bar


def test_no_case_view_shows_where_a_recording_lies(panels: Panels) -> None:
    """Tried: a voice request with a recording, a repeat voice message on it (its path is
    kept in the ``contact`` event), a triage edit, then every staff view of the case: the
    case API, the case page (both languages), the triage view and the search by phone.
    Expect the player's route, and never the PBX folder, a file name or ``recording_path``."""
    code = voice_request(panels)
    repeat_path = "/var/spool/asterisk/recording/request-1700.2.wav"
    with session_scope(panels.services.engine) as s:
        repeat = file_request(session=s, phone="09131234567", channel="phone",
                              category_code="waste", recording_path=repeat_path, actor="ivr")
        assert repeat.repeat_of is not None
    headers = panels.as_user("ali")
    answer = panels.client.get("/triage")
    assert f'data-code="{code}"' in answer.text
    views = {"/triage": answer}
    edited = panels.client.post(f"/api/cases/{code}/edit", headers=headers, json={
        "version": version_of(panels, code), "category_code": "traffic",
        "neighbourhood_code": "safaieh", "description": "چراغ خاموش", "triage": True})
    assert edited.status_code == 200, edited.text
    for path in (f"/api/cases/{code}", f"/cases/{code}", f"/cases/{code}?lang=en",
                 "/cases?q=0913%20123%204567", f"/cases?q={code}", "/api/cases"):
        views[path] = panels.client.get(path)
    case = views[f"/api/cases/{code}"].json()
    assert any(e["kind"] == "contact" for e in case["history"])
    assert 'id="case-recording"' in views[f"/cases/{code}"].text
    assert f"/api/requests/{code}/recording" in views[f"/cases/{code}"].text
    for path, view in views.items():
        assert view.status_code == 200, (path, view.text)
        for secret in ("/var/spool", "request-1.wav", "request-1700.2", "recording_path"):
            assert secret not in view.text, (path, secret)
