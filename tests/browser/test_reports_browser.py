"""Real browser, real server: a manager picks a Jalali month on /reports, sees the charts
drawn, downloads CSV and XLSX whose numbers equal the API's, and is refused (403) the
abandoned-calls list and the agent and supervisor pages."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from serving import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server, keep_screenshot

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.db.engine import session_scope
from callcenter.users.services import create_user

pytestmark = pytest.mark.browser
MONTH_START = datetime(2025, 2, 19, 6, 0, tzinfo=UTC)  # 1403-12-01 09:30 Tehran
PLACES = ["fahadan", "yaghoubi", "azadshahr", "naeimabad"]
CATEGORIES = ["waste", "streets", "parks", "traffic"]
CHANNELS = ["phone", "sms", "app", "web"]


def seed(server: Server) -> None:
    """Esfand 1403: calls of every outcome on most days, requests with surveys."""
    with session_scope(server.engine) as session:
        create_user(session=session, username="mina", password=PASSWORD, role="manager",
                    full_name="مینا شهری")
        outcomes = ["answered", "answered", "answered", "abandoned", "callback", "missed",
                    "ivr_only"]
        for day in range(30):
            for i in range(day % 5 + 2):
                outcome = outcomes[(day + i) % len(outcomes)]
                session.add(Call(
                    linkedid=f"m.{day}.{i}", uniqueid=f"m.{day}.{i}",
                    caller=f"+98913555{(day * 7 + i) % 50:04d}",
                    entered_at=MONTH_START + timedelta(days=day, minutes=37 * i),
                    outcome=outcome, wait_seconds=float((day * 13 + i * 29) % 150),
                    talk_seconds=60.0 + 10 * i, agent="2101" if i % 2 else "2102",
                    ivr_path="menu:1>category:1>recorded" if outcome == "ivr_only"
                    else "menu:0", queue="citizen-requests"))
        for n in range(60):
            citizen = Citizen(phone=f"+98913700{n:04d}")
            session.add(citizen)
            session.flush()
            made = MONTH_START + timedelta(days=n % 30, hours=n % 7)
            category = CATEGORIES[n % 4]
            session.add(CitizenRequest(
                tracking_code=f"{5000000 + n}", citizen_id=citizen.id,
                channel=CHANNELS[n % 4], category_code=category, department_code=category,
                neighbourhood_code=PLACES[n % 3 if n < 40 else 0],
                status="resolved" if n % 3 else "referred", created_at=made,
                deadline_at=made + timedelta(hours=48),
                resolved_at=made + timedelta(hours=10 + n) if n % 3 else None,
                survey_rating=(n % 5) + 1 if n % 3 else None,
                survey_fixed=bool(n % 2) if n % 3 else None,
                survey_channel="sms" if n % 2 else "phone",
                survey_at=made + timedelta(hours=30) if n % 3 else None))


def log_in(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/reports")
    page.fill("input[name=username]", "mina")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/reports")


def download(page: Page, table: str, fmt: str, tmp_path: Path) -> Path:
    link = page.locator(f'section[data-table="{table}"] a[data-format="{fmt}"]')
    with page.expect_download() as info:
        link.click()
    target = tmp_path / f"{table}.{fmt}"
    info.value.save_as(target)
    return target


def xlsx_rows(path: Path) -> list[list[str]]:
    """Cell texts per row, read from the sheet XML (shared strings resolved)."""
    book = zipfile.ZipFile(path)
    strings = re.findall(r"<t[^>]*>([^<]*)</t>", book.read("xl/sharedStrings.xml").decode())
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'rightToLeft="1"' in sheet
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet):
        cells = []
        for kind, value in re.findall(r'<c r="[A-Z]+\d+"(?: s="\d+")?( t="s")?[^>]*><v>([^<]*)'
                                      r"</v></c>", row):
            cells.append(strings[int(value)] if kind else value)
        rows.append(cells)
    return rows


def test_manager_month_report_charts_and_exports(server: Server, tmp_path: Path) -> None:
    seed(server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 1100},
                                   accept_downloads=True).new_page()
        log_in(page, server)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.fill("#f-month", "1403-12")
        page.click("#f-apply")
        expect(page.locator("#period")).to_have_text("۱۴۰۳-۱۲-۰۱ – ۱۴۰۳-۱۲-۳۰")
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(2)
        for i in range(2):
            assert int(charts.nth(i).get_attribute("data-marks") or 0) > 0
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 60
        assert page.locator("svg.chart rect.mark").count() > 10  # bars really drawn
        page.screenshot(path=str(tmp_path / "reports-contact.png"), full_page=True)

        api = page.request.get(f"{server.url}/api/reports/contact?month=1403-12").json()
        total = api["figures"]
        assert total["offered"] > 0
        lines = list(csv.reader(io.StringIO(
            download(page, "contact_total", "csv", tmp_path).read_bytes().decode("utf-8-sig"))))
        header = next(i for i, line in enumerate(lines) if line and line[0] == "ورودی")
        exported = dict(zip(lines[header], lines[header + 1], strict=True))
        assert int(exported["ورودی"]) == total["offered"]
        assert int(exported["پاسخ‌داده"]) == total["answered"]
        assert float(exported["سطح خدمت"]) == round(total["service_level"] * 100, 1)
        rows = xlsx_rows(download(page, "contact_series", "xlsx", tmp_path))
        start = next(i for i, row in enumerate(rows) if row and row[0] == "بازه")
        by_day = {row[0]: int(float(row[1])) for row in rows[start + 1:]}
        api_series = next(t for t in api["tables"] if t["key"] == "contact_series")["rows"]
        assert by_day == {row["bucket"]: row["offered"] for row in api_series}
        assert len(by_day) == 30

        for report in ("requests", "satisfaction", "needs", "agents", "ivr", "repeats"):
            page.click(f'nav.tabs a[href^="/reports?report={report}&"]')
            expect(page).to_have_url(re.compile(f"report={report}"))
            marks = page.locator("svg.chart")
            for i in range(marks.count()):
                assert int(marks.nth(i).get_attribute("data-marks") or 0) > 0, report
            page.screenshot(path=str(tmp_path / f"reports-{report}.png"), full_page=True)
        page.goto(f"{server.url}/reports?report=needs&month=1403-12")
        assert page.locator('section[data-table="needs_matrix"] td[style*="background"]'
                            ).count() > 0

        # The whole needs report in the background: progress shown, then the download;
        # the workbook's first sheet (the neighbourhood table) equals the API's.
        page.click('.job-start[data-format="xlsx"]')
        job = page.locator("#job-list li[data-job]").first
        expect(job).to_have_attribute("data-state", "done", timeout=60_000)
        assert job.locator("progress").evaluate("p => p.value") == 100
        with page.expect_download() as info:
            job.locator("a.job-download").click()
        target = tmp_path / "needs-all.xlsx"
        info.value.save_as(target)
        assert len([n for n in zipfile.ZipFile(target).namelist()
                    if n.startswith("xl/worksheets/sheet")]) >= 4
        rows = xlsx_rows(target)
        start = next(i for i, row in enumerate(rows) if row[:1] == ["محله"] and
                     row[-1] == "جمع")  # the header (a filter line above also says محله)
        exported_totals = {row[0]: int(float(row[-1])) for row in rows[start + 1:]}
        needs = page.request.get(f"{server.url}/api/reports/needs?month=1403-12").json()
        matrix = next(t for t in needs["tables"] if t["key"] == "needs_matrix")["rows"]
        assert exported_totals == {row["neighbourhood"]: row["total"] for row in matrix}
        assert sum(exported_totals.values()) == 60
        key = job.get_attribute("data-job")
        page.reload()  # the finished job stays listed, with its link
        expect(page.locator(f'#job-list li[data-job="{key}"] a.job-download')).to_have_count(1)

        for path in ("/api/reports/abandoned-calls", "/api/reports/abandoned-calls/export",
                     "/agent", "/supervisor"):
            response = page.request.get(f"{server.url}{path}", max_redirects=0)
            assert response.status == 403, path
        browser.close()
    for name in ("contact", "requests", "satisfaction", "needs", "agents", "ivr", "repeats"):
        keep_screenshot(tmp_path / f"reports-{name}.png", f"reports-{name}.png")
