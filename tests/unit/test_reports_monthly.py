"""``callcenter reports monthly 1403-12``: prints each step and writes an RTL PDF into
``data/reports/`` (WeasyPrint, Vazirmatn embedded)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callcenter.app import prepare_store
from callcenter.callrecords.models import Call
from callcenter.cli import app as cli_app
from callcenter.db.engine import build_engine, session_scope


def test_monthly_pdf_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    engine = build_engine(f"sqlite:///{tmp_path / 'callcenter.db'}")
    prepare_store(engine)
    with session_scope(engine) as session:
        session.add(Call(linkedid="p1", uniqueid="p1", entered_at=datetime(2025, 3, 1, 8,
                                                                           tzinfo=UTC),
                         outcome="answered", wait_seconds=12, talk_seconds=80))
    engine.dispose()
    ran = CliRunner().invoke(cli_app, ["reports", "monthly", "1403-12"])
    assert ran.exit_code == 0, ran.output
    assert re.findall(r"\[(\d)/5\]", ran.output) == ["1", "2", "3", "4", "5"]
    pdf = tmp_path / "reports" / "report-1403-12.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 20_000  # charts, tables and the embedded font subset
    bad = CliRunner().invoke(cli_app, ["reports", "monthly", "1403-13"])
    assert bad.exit_code == 1 and "no such Jalali month" in bad.output
