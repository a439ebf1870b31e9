"""``GET /metrics``: Prometheus text format (prometheus-client), read at scrape time from
the running parts and the store - nothing is counted twice, nothing module-level.

Calls in progress and AMI/lease state per PBX; waiting callers per queue; agents by
state; FastAGI sessions and outcomes; outbox and SMS backlog and dead letters; the event
bus's lag. Who may read: in production, addresses in ``metrics_networks`` (default:
loopback; the scraper) or a signed-in staff member; elsewhere anyone.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import text

from callcenter.auth.deps import session_user
from callcenter.auth.sessions import SESSION_COOKIE
from callcenter.deps import AppServices

router = APIRouter(tags=["health"])


class PartsCollector:
    """One scrape's worth of figures from ``services`` (a prometheus-client collector)."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterable[Metric]:
        services = self.services
        yield from self._ami(services.runtime.parts)
        yield from self._queues(services)
        agents = GaugeMetricFamily("callcenter_agents", "Agents by state", labels=["state"])
        states = Counter(p.state.value for p in services.panel_hub.board.all())
        for state, count in sorted(states.items()):
            agents.add_metric([state], count)
        yield agents
        yield from self._fastagi(services.runtime.parts)
        yield from self._store(services)
        yield from self._bus(services)

    @staticmethod
    def _ami(parts: list[Any]) -> Iterable[Metric]:
        calls = GaugeMetricFamily("callcenter_calls_in_progress",
                                  "Calls the AMI holder tracks", labels=["pbx"])
        connected = GaugeMetricFamily("callcenter_ami_connected",
                                      "1 when logged in to the PBX's AMI", labels=["pbx"])
        lease = GaugeMetricFamily("callcenter_ami_lease_held",
                                  "1 when this instance consumes the PBX's AMI",
                                  labels=["pbx"])
        for part in parts:
            pbx = getattr(part, "pbx", None)
            bridge = getattr(part, "bridge", None)
            if pbx is None or bridge is None:
                continue
            holding = part.lease.holding if part.lease is not None else True
            calls.add_metric([pbx.name], bridge.tracker.active_calls if holding else 0)
            connected.add_metric([pbx.name], 1 if bridge.manager.is_ready else 0)
            lease.add_metric([pbx.name], 1 if holding else 0)
        yield from (calls, connected, lease)

    @staticmethod
    def _queues(services: Any) -> Iterable[Metric]:
        waiting = GaugeMetricFamily("callcenter_waiting_callers", "Callers in the queue",
                                    labels=["queue"])
        snapshot = services.queue_state.snapshot() if services.queue_state else {}
        for name, queue in sorted(snapshot.items()):
            waiting.add_metric([name], len(queue.get("waiting", [])))
        yield waiting

    @staticmethod
    def _fastagi(parts: list[Any]) -> Iterable[Metric]:
        for part in parts:
            if part.name != "fastagi":
                continue
            state = part.server.state()
            yield GaugeMetricFamily("callcenter_fastagi_sessions_active",
                                    "FastAGI sessions running", value=state.active_sessions)
            total = CounterMetricFamily("callcenter_fastagi_sessions",
                                        "FastAGI sessions ended, by outcome",
                                        labels=["outcome"])
            for outcome, count in sorted(state.outcomes.items()):
                total.add_metric([outcome], count)
            yield total

    @staticmethod
    def _store(services: Any) -> Iterable[Metric]:
        outbox = GaugeMetricFamily("callcenter_outbox_items", "Shahrbin outbox by state",
                                   labels=["state"])
        sms = GaugeMetricFamily("callcenter_sms_messages", "Outbound SMS by status",
                                labels=["status"])
        with services.engine.connect() as conn:
            for state, count in conn.execute(text(
                    "SELECT state, count(*) FROM crm_outbox WHERE state != 'delivered'"
                    " GROUP BY state")).all():
                outbox.add_metric([state], count)
            for status, count in conn.execute(text(
                    "SELECT status, count(*) FROM sms_message WHERE direction = 'out'"
                    " AND status IN ('queued', 'failed') GROUP BY status")).all():
                sms.add_metric([status], count)
        yield from (outbox, sms)

    @staticmethod
    def _bus(services: Any) -> Iterable[Metric]:
        bus = services.bus
        if bus is None:
            return
        yield GaugeMetricFamily("callcenter_event_bus_lag_seconds",
                                "Store-to-delivery delay of the last event",
                                value=bus.last_lag_seconds or 0.0)
        yield GaugeMetricFamily("callcenter_event_bus_queued",
                                "Events waiting to be written", value=bus.backlog)
        yield CounterMetricFamily("callcenter_event_bus_delivered",
                                  "Events delivered to this instance", value=bus.delivered)
        yield CounterMetricFamily("callcenter_event_bus_dropped",
                                  "Events dropped (queue full)", value=bus.dropped)


def _allowed_address(request: Request, networks: list[str]) -> bool:
    peer = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


@router.get("/metrics")
async def metrics(request: Request, services: AppServices) -> Response:
    settings = services.settings
    if settings.environment == "production" and not _allowed_address(
            request, settings.metrics_networks) and await session_user(
            services, request.cookies.get(SESSION_COOKIE)) is None:
        return PlainTextResponse("forbidden\n", status_code=403)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PartsCollector(services))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
