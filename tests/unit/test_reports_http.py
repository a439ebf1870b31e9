"""Reports over HTTP: who may read what (manager, supervisor, agent), the API's filters,
the page, and the CSV/XLSX exports (BOM, filters on top, right-to-left sheet)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime

from support.panels import Panels

from callcenter.callrecords.models import Call
from callcenter.db.engine import session_scope


def add_calls(panels: Panels) -> None:
    with session_scope(panels.services.engine) as session:
        for n, (outcome, wait) in enumerate([("answered", 10), ("answered", 40),
                                             ("abandoned", 70)]):
            session.add(Call(linkedid=f"l{n}", uniqueid=f"l{n}", caller="+989131234567",
                             entered_at=datetime(2025, 3, 1, 10, n, tzinfo=UTC),
                             outcome=outcome, wait_seconds=wait, talk_seconds=60))


def test_manager_reads_reports_but_no_numbers_and_no_panels(panels: Panels) -> None:
    client = panels.client
    panels.as_user("mina")
    assert client.get("/api/reports/contact").status_code == 200
    assert client.get("/reports").status_code == 200
    for path in ("/api/reports/abandoned-calls", "/api/reports/abandoned-calls/export",
                 "/agent", "/supervisor", "/api/supervisor/today", "/api/cases",
                 "/api/tasks"):
        assert client.get(path, follow_redirects=False).status_code == 403, path


def test_supervisor_gets_the_abandoned_list_and_agent_gets_no_reports(panels: Panels) -> None:
    add_calls(panels)
    client = panels.client
    panels.as_user("sara")
    body = client.get("/api/reports/abandoned-calls?month=1403-12").json()
    (row,) = body["tables"][0]["rows"]
    assert row["caller"] == "+989131234567" and row["called_back"] is False
    panels.as_user("ali")
    assert client.get("/api/reports/contact").status_code == 403
    assert client.get("/reports", follow_redirects=False).status_code == 403


def test_api_filters_and_bad_input(panels: Panels) -> None:
    add_calls(panels)
    client = panels.client
    panels.as_user("mina")
    body = client.get("/api/reports/contact?month=1403-12").json()
    assert body["period"] == {"first": "1403-12-01", "last": "1403-12-30",
                              "start_utc": "2025-02-18T20:30:00+00:00",
                              "end_utc": "2025-03-20T20:30:00+00:00"}
    assert body["figures"]["offered"] == 3 and body["figures"]["answered"] == 2
    custom = client.get("/api/reports/contact?preset=custom&from=1403-12-11&to=1403-12-11"
                        "&granularity=hour").json()
    assert custom["figures"]["offered"] == 3
    assert client.get("/api/reports/contact?channel=sms&month=1403-12"
                      ).json()["figures"]["offered"] == 0
    # Tried: an impossible date, a custom range without its end, an unknown channel.
    assert client.get("/api/reports/contact?preset=custom&from=1403-12-31&to=1404-01-01"
                      ).status_code == 422
    assert client.get("/api/reports/contact?preset=custom&from=1403-12-01").status_code == 422
    assert client.get("/api/reports/contact?channel=fax").status_code == 422
    assert client.get("/api/reports/nope").status_code == 422
    schema = client.get("/openapi.json").json()
    assert "/api/reports/{report}" in schema["paths"]


def test_csv_and_xlsx_exports(panels: Panels) -> None:
    add_calls(panels)
    client = panels.client
    panels.as_user("mina")
    url = "/api/reports/contact/export?table=contact_total&month=1403-12"
    raw = client.get(url + "&format=csv").content
    assert raw.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ["جمع دوره"]
    assert lines[1] == ["بازه گزارش", "1403-12-01 - 1403-12-30"]
    header = lines.index(next(line for line in lines if line and line[0] == "ورودی"))
    values = dict(zip(lines[header], lines[header + 1], strict=True))
    assert values["ورودی"] == "3" and values["سطح خدمت"] == "33.3"
    empty = client.get("/api/reports/contact/export?table=contact_total&month=1402-01"
                       "&format=csv&lang=en").content.decode("utf-8-sig")
    assert "Service level" in empty and ",-," in empty  # undefined shows "-"
    book = zipfile.ZipFile(io.BytesIO(client.get(url + "&format=xlsx").content))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'rightToLeft="1"' in sheet
    assert client.get(url.replace("contact_total", "nope") + "&format=csv").status_code == 404


def test_page_draws_charts_in_persian(panels: Panels) -> None:
    add_calls(panels)
    client = panels.client
    panels.as_user("mina")
    page = client.get("/reports?report=contact&month=1403-12").text
    assert 'dir="rtl"' in page and "۱۴۰۳-۱۲-۰۱" in page
    marks = [int(m) for m in re.findall(r'data-marks="(\d+)"', page)]
    assert marks and all(m > 0 for m in marks)
    for name in ("agents", "ivr", "repeats", "requests", "satisfaction", "needs"):
        assert client.get(f"/reports?report={name}&month=1403-12&lang=en").status_code == 200


def test_blank_form_fields_mean_no_filter(panels: Panels) -> None:
    """The page's form sends every field, empty ones as ``name=``: that is no filter."""
    add_calls(panels)
    client = panels.client
    panels.as_user("mina")
    body = client.get("/api/reports/contact?month=1403-12&district=&channel=&department="
                      "&from=&to=&exclude_short_abandons=").json()
    assert body["figures"]["offered"] == 3


def test_built_monthly_reports_are_listed_and_served(panels: Panels) -> None:
    folder = panels.services.settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report-1403-12.pdf").write_bytes(b"%PDF-1.7 test")
    (folder / "notes.txt").write_text("not a report")
    client = panels.client
    panels.as_user("mina")
    page = client.get("/reports").text
    assert 'href="/reports/monthly/report-1403-12.pdf"' in page and "notes.txt" not in page
    pdf = client.get("/reports/monthly/report-1403-12.pdf")
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 test"
    # Tried: another file in the folder, a path out of it, a month not built.
    for name in ("notes.txt", "..%2Fcallcenter.db", "report-1404-01.pdf"):
        assert client.get(f"/reports/monthly/{name}").status_code == 404, name


def test_background_export_progress_and_download(panels: Panels) -> None:
    add_calls(panels)
    client = panels.client
    headers = panels.as_user("mina")
    started = client.post("/api/reports/contact/export-jobs?month=1403-12", headers=headers,
                          json={"format": "csv", "table": "contact_total"})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] in ("pending", "running", "done") and job["report"] == "contact"
    panels.services.report_jobs.futures[job["key"]].result(timeout=60)
    done = client.get(f"/api/reports/jobs/{job['key']}").json()
    assert (done["state"], done["progress"]) == ("done", 100)
    raw = client.get(done["download"])
    assert raw.status_code == 200 and raw.content.startswith("\ufeff".encode())
    direct = client.get("/api/reports/contact/export?table=contact_total&month=1403-12"
                        "&format=csv")
    assert raw.content == direct.content  # the same file as the direct export
    page = client.get("/reports?month=1403-12").text
    assert f'data-job="{job["key"]}"' in page and done["download"] in page
    # Tried: a bad filter (422, no job), no CSRF token (403), another user's job (404).
    bad = client.post("/api/reports/contact/export-jobs?month=1403-13", headers=headers,
                      json={"format": "csv"})
    assert bad.status_code == 422 and "no such Jalali month" in bad.text
    assert client.post("/api/reports/contact/export-jobs", json={}).status_code == 403
    panels.as_user("sara")
    assert client.get(f"/api/reports/jobs/{job['key']}").status_code == 404
    assert client.get(done["download"]).status_code == 404
    assert client.get("/api/reports/jobs/not-a-key").status_code == 422


def test_agents_report_reads_the_state_history_the_board_writes(panels: Panels) -> None:
    board = panels.services.panel_hub.board
    start = datetime(2025, 3, 1, 8, tzinfo=UTC).timestamp()
    board.fire("2101", "join", at=start)
    board.fire("2101", "pause", at=start + 600, reason="prayer")
    board.fire("2101", "resume", at=start + 900)
    board.fire("2101", "leave", at=start + 3600)
    panels.services.agent_history.flush()
    client = panels.client
    panels.as_user("mina")
    body = client.get("/api/reports/agents?month=1403-12").json()
    tables = {t["key"]: t["rows"] for t in body["tables"]}
    (row,) = tables["agents"]
    assert (row["agent"], row["logged_in_seconds"], row["break_seconds"]) == ("2101", 3600, 300)
    assert tables["agent_breaks"] == [{"agent": "2101", "reason": "prayer", "seconds": 300.0}]
    parts = client.get("/health").json()["parts"]
    assert parts["agent_history"] == {"state": "running", "errors": 0, "queued": 0}
    assert parts["report_jobs"]["state"] == "running"


def test_the_scheduler_built_pdf_is_listed_for_download(panels: Panels) -> None:
    add_calls(panels)
    assert panels.services.report_jobs.ensure_monthly("1403-12") == "1403-12"
    client = panels.client
    panels.as_user("mina")
    page = client.get("/reports").text
    assert 'href="/reports/monthly/report-1403-12.pdf"' in page
    assert client.get("/reports/monthly/report-1403-12.pdf").content.startswith(b"%PDF")
