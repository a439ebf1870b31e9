"""``/metrics`` (issue 19): Prometheus text with the figures operations watch; in
production only the scraper's networks (or staff) may read it."""

from __future__ import annotations

import warnings
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from callcenter.app import create_app
from callcenter.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette asks for httpx2 (see support/panels.py)
    from starlette.testclient import TestClient


def scrape(tmp_path: Path, **overrides: object) -> tuple[int, str]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'm.db'}",
                        **overrides)  # type: ignore[arg-type]
    app = create_app(settings, start_parts=False)
    try:
        with TestClient(app) as client:
            board = app.state.services.panel_hub.board
            board.fire("2101", "join")
            board.fire("2102", "join")
            board.fire("2102", "pause", reason="lunch")
            response = client.get("/metrics")
            return response.status_code, response.text
    finally:
        app.state.services.engine.dispose()


def test_metrics_are_prometheus_text_with_the_figures(tmp_path: Path) -> None:
    status, body = scrape(tmp_path, environment="test")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body)}
    agents = {s.labels["state"]: s.value for s in families["callcenter_agents"].samples}
    assert agents == {"available": 1, "on_break": 1}
    for name in ("callcenter_outbox_items", "callcenter_sms_messages",
                 "callcenter_waiting_callers", "callcenter_calls_in_progress",
                 "callcenter_ami_lease_held"):
        assert name in families, name


def test_production_metrics_refuse_an_unknown_address(tmp_path: Path) -> None:
    status, body = scrape(tmp_path, environment="production",
                          secret_key="k" * 8 + "Q7v!x9#LmN2@pR5$tW8^zB4&cF6*hJ0%",
                          **_production_secrets())
    assert status == 403 and "callcenter_agents" not in body


def _production_secrets() -> dict[str, str]:
    strong = "Zr8#Lq2$Vn6&Tp4*Wm9@Kc3!Hx7%Bd5^"
    return {"ami_secret": strong + "a", "twilio_auth_token": "0123456789abcdef" * 2,
            "shahrbin_api_token": strong + "b", "shahrbin_webhook_secret": strong + "c",
            "media_link_secret": strong + "m"}
