"""``compose(settings)``: every part of the process built once, in order, typed.

The one place that knows how the parts fit together. Each capability receives what it
needs as constructor arguments (through the Protocols of its ``ports.py`` where it
needs another part); nothing is looked up by name or created on first use. The web app
(``app.create_app``) is this plus the routers; routes reach ``Services`` through the
one dependency of ``callcenter/deps.py``.

Order (each step uses only what the steps above built):
store engine, notifier -> auth state, templates, SMS catalogue, rate limiters ->
SMS service -> Shahrbin config (and deliverer) -> panel and supervisor hubs ->
messenger bot (when enabled) -> scheduler -> AMI bridge -> FastAGI server -> follow-up runner.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.engine import Engine

from callcenter.agent_history.recorder import AgentHistory
from callcenter.agent_panel.hub import PanelHub
from callcenter.agent_panel.wrapup import WrapUpPauser
from callcenter.agi.routes import flow_routes
from callcenter.agi.server import FastAgiServer
from callcenter.ami.actions import AmiActions
from callcenter.attachments.services import attachments_root
from callcenter.auth.ratelimit import LoginRateLimiter
from callcenter.auth.services import AuthState, prune_dead_sessions
from callcenter.auth.sessions import SessionCodec
from callcenter.callrecords.recorder import CallRecorder
from callcenter.calls.events import AgentNoAnswer
from callcenter.calls.queue_state import QueueView
from callcenter.cluster.bus import PgEventBus
from callcenter.cluster.dsn import default_instance_name, is_postgres, libpq_dsn
from callcenter.cluster.events import QueueSnapshot
from callcenter.cluster.lease import LOCK_NAMESPACE, AmiLease, Hook, LeaseBoard
from callcenter.cluster.limits import StoreLoginLimiter, StoreTokenBucket
from callcenter.cluster.presence import SharedPresence
from callcenter.cluster.queues import ClusterQueueView
from callcenter.cluster.single import SingleInstanceGuard
from callcenter.db.engine import build_engine, session_scope
from callcenter.db.migrate import upgrade
from callcenter.followups.config import RunnerConfig, policy_from_settings
from callcenter.followups.runner import FollowupRunner, install_job
from callcenter.media.links import LinkSigner
from callcenter.media.retention import RecordingRetention
from callcenter.media.retention import install_job as install_retention
from callcenter.messages.build import build_messages
from callcenter.messages.part import MessagesPart
from callcenter.messenger.channel import BotChannel
from callcenter.messenger.transport import build_bot
from callcenter.notifier import Notifier
from callcenter.parts import AmiPart, FastAgiPart, LeaseFactory, SchedulerPart
from callcenter.pools import WorkerPools
from callcenter.ratelimit import PublicLimiters
from callcenter.reference.calendar import opening_hours
from callcenter.reference.hours import Hours
from callcenter.reference.services import sync_reference
from callcenter.reports.jobs import ReportJobs, install_monthly_job
from callcenter.runtime import DatabasePart, Part, Runtime
from callcenter.settings import Settings
from callcenter.sms.build import build_sms, build_sms_channel
from callcenter.sms.messages import SmsCatalogue, load_catalogue
from callcenter.sms.notify import SmsSender
from callcenter.supervisor.hub import SupervisorHub
from callcenter.web.templates import build_templates
from crm_bridge.config import ShahrbinConfig, load_shahrbin_config
from crm_bridge.deliverer import OutboxDeliverer
from crm_bridge.part import ShahrbinPart


@dataclass
class Services:
    """What the routes and parts share, built once per process by ``compose``.

    ``queue_state``, ``ami_actions`` and ``followups`` are None when their part does not
    run (AMI disabled, web-only apps); routes read them per request.
    """

    settings: Settings
    engine: Engine
    notifier: Notifier
    runtime: Runtime
    auth: AuthState
    templates: Jinja2Templates
    sms_catalogue: SmsCatalogue
    sms: SmsSender
    messages: MessagesPart
    shahrbin: ShahrbinConfig
    limiters: PublicLimiters
    pools: WorkerPools
    panel_hub: PanelHub
    supervisor_hub: SupervisorHub
    report_jobs: ReportJobs
    agent_history: AgentHistory
    queue_state: QueueView | None = None
    ami_actions: AmiActions | None = None
    followups: FollowupRunner | None = None
    bot: BotChannel | None = None  # the messenger bot, when ``bot_enabled``
    # The centre's opening hours and holidays (``reference.calendar``): working-hours
    # deadlines, escalations and the reports read this one calendar.
    calendar: Hours | None = None
    # Several instances (PostgreSQL): the event bus every hub hears through, and the
    # actions of the first PBX's holder alone (the follow-up runner's: a standby's
    # events-off login cannot wait for an OriginateResponse).
    bus: PgEventBus | None = None
    holder_actions: AmiActions | None = None


@dataclass(frozen=True)
class Composition:
    """``services`` for the routes; ``parts`` to start in order and stop in reverse."""

    services: Services
    parts: list[Part]


def prepare_store(engine: Engine, *, reference_dir: Path | None = None) -> None:
    """Migrate to the newest schema and load the reference data (idempotent).

    ``reference_dir`` is ``settings.reference_dir``; unset, the search order's.
    """
    with migration_lock(engine):
        upgrade(engine)
        with session_scope(engine) as session:
            sync_reference(session=session, directory=reference_dir)


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, instances starting together migrate one after the other (a
    session advisory lock around the migration); SQLite serves one process."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:ns, 0)"), {"ns": LOCK_NAMESPACE})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:ns, 0)"), {"ns": LOCK_NAMESPACE})
            conn.commit()


def compose(settings: Settings, *, telephony: bool = True) -> Composition:
    """Build every part; ``telephony=False`` leaves out the AMI bridge, the FastAGI
    server, the scheduler, the Shahrbin loop and the SMS provider (web-only tests)."""
    engine = build_engine(settings.database_url)
    notifier = Notifier()
    # Bounded pools of their own for blocking work: one stuck dependency stalls only its
    # pool, and /health names it (issue 12).
    pools = WorkerPools.from_settings(settings)
    # Citizen messages are rows first; only a telephony process sends them.
    messages = build_messages(settings, engine, pools, {
        "sms": build_sms_channel(settings)} if telephony else None)
    runtime = Runtime([DatabasePart(engine), pools, messages])
    sms = SmsSender(build_sms(settings, engine, pools) if telephony else None,
                    wake=messages.wake)
    panel_hub = PanelHub(engine=engine, notifier=notifier)
    services = Services(
        settings=settings, engine=engine, notifier=notifier, runtime=runtime,
        auth=AuthState(codec=SessionCodec(settings),
                       limiter=LoginRateLimiter(
                           max_failures=settings.login_max_failures,
                           window_seconds=settings.login_window_seconds,
                           user_max_failures=settings.login_user_max_failures,
                           user_lockout_cap=settings.login_user_lockout_cap_seconds),
                       idle=timedelta(minutes=settings.session_idle_minutes)),
        templates=build_templates(), sms=sms, messages=messages,
        sms_catalogue=load_catalogue(settings.sms_messages_file),
        shahrbin=load_shahrbin_config(settings), limiters=PublicLimiters.from_settings(settings),
        pools=pools, panel_hub=panel_hub,
        supervisor_hub=SupervisorHub(settings=settings, engine=engine, notifier=notifier,
                                     board=panel_hub.board),
        report_jobs=ReportJobs(engine=engine, settings=settings),
        agent_history=_agent_history(engine, notifier, panel_hub),
        calendar=opening_hours(settings),
    )
    runtime.parts.extend([services.report_jobs, services.agent_history])
    if settings.bot_enabled:  # a channel of its own, not telephony: web-only apps too
        services.bot = build_bot_channel(services)
        runtime.parts.append(services.bot)
    if telephony:
        if is_postgres(settings.database_url):
            _share_between_instances(services)
        runtime.parts.extend(_telephony_parts(services))
    return Composition(services=services, parts=runtime.parts)


def build_bot_channel(services: Services) -> BotChannel:
    """The messenger bot on the library's client, the store pool and the contact policy."""
    settings = services.settings
    return BotChannel(settings=settings, engine=services.engine, pools=services.pools,
                      bot=build_bot(settings), catalogue=services.sms_catalogue,
                      policy=policy_from_settings(settings),
                      attachments_root=attachments_root(settings.data_dir))


def _telephony_parts(services: Services) -> list[Part]:
    """AMI bridge, FastAGI server, Shahrbin loop and scheduler, in start order."""
    settings, engine = services.settings, services.engine
    scheduler = SchedulerPart(settings)
    parts: list[Part] = []
    _install_retention(settings, engine, scheduler.scheduler)
    if not is_postgres(settings.database_url):
        parts.append(SingleInstanceGuard(settings.database_url))  # SQLite: one process
    if settings.ami_enabled:
        pbxs = settings.pbx_list()
        leases = lease_factory(settings)
        bus = services.bus
        publish = bus.publish if bus is not None else services.notifier.publish
        for pbx in pbxs:
            ami = AmiPart(settings=settings, pbx=pbx, scheduler=scheduler,
                          recorder=CallRecorder(engine=engine, settings=settings, pbx=pbx,
                                                runner=services.pools.store.run),
                          publish=publish, lease=leases,
                          name="ami" if len(pbxs) == 1 else f"ami:{pbx.name}")
            if services.ami_actions is None:  # the first PBX's actions serve the panels
                services.ami_actions = ami.panel_actions
                services.holder_actions = ami.bridge.actions
                services.queue_state = ami.bridge.queue_state
            parts.append(ami)
        if bus is not None:  # every instance sees the holders' queue pictures
            mirror = ClusterQueueView()
            services.notifier.subscribe(QueueSnapshot, mirror.apply)
            # A new queue picture (a caller joined or left) is pushed at once, not at
            # the next tick.
            services.notifier.subscribe(
                QueueSnapshot, lambda _snapshot: services.supervisor_hub.schedule_live())
            services.queue_state = mirror
        services.supervisor_hub.queue_state = services.queue_state
        if leases is not None:
            parts.append(LeaseBoard(engine=engine, instance=instance_name(settings),
                                    pbxs=[pbx.name for pbx in pbxs]))
        if settings.wrap_up_pause:
            async def next_callback(interface: str) -> bool:
                runner = services.followups  # built after the AMI part
                return await runner.place_next_callback(interface) if runner else False

            parts.append(WrapUpPauser(
                board=services.panel_hub.board, actions=lambda: services.ami_actions,
                queue_name=settings.queue_name, max_seconds=settings.wrap_up_max_seconds,
                next_call=next_callback))
    routes = flow_routes(settings=settings, engine=engine, queue_state=services.queue_state,
                         wake_messages=services.messages.wake,
                         catalogue=services.sms_catalogue, runner=services.pools.ivr.run)
    server = FastAgiServer(routes, host=settings.agi_host, port=settings.agi_port,
                           session_deadline=settings.agi_session_deadline_seconds)
    parts.append(FastAgiPart(server, settings.sounds_dir))
    parts.append(ShahrbinPart(settings=settings,
                              deliverer=shahrbin_deliverer(settings, engine, services.shahrbin)))
    parts.append(scheduler)
    services.followups = _followup_runner(services, scheduler.scheduler)
    _install_session_prune(services, scheduler.scheduler)
    if settings.reports_monthly_enabled:
        install_monthly_job(scheduler=scheduler.scheduler, jobs=services.report_jobs,
                            interval_minutes=settings.reports_monthly_check_minutes)
    return parts


SESSION_PRUNE_JOB = "session-prune"


def _install_session_prune(services: Services, scheduler: AsyncIOScheduler) -> None:
    """Hourly: delete staff session rows dead for 30 days (the table stays small)."""
    engine, idle, pool = services.engine, services.auth.idle, services.pools.store

    async def prune() -> None:
        await pool.run(prune_dead_sessions, engine=engine, idle=idle)

    scheduler.add_job(prune, "interval", id=SESSION_PRUNE_JOB, hours=1, max_instances=1,
                      coalesce=True)


def _agent_history(engine: Engine, notifier: Notifier, panel_hub: PanelHub) -> AgentHistory:
    """The append-only agent state history, hooked where presence changes: the board's
    every change and the tracker's unanswered rings."""
    history = AgentHistory(engine)
    panel_hub.board.listen(history.on_presence)
    notifier.subscribe(AgentNoAnswer, history.on_no_answer)
    return history


def _share_between_instances(services: Services) -> None:
    """PostgreSQL ``serve``: several instances may run. Events go through the store's
    bus; agent presence and the rate limiters live in the store (issue 19)."""
    settings, engine = services.settings, services.engine
    instance = instance_name(settings)
    bus = PgEventBus(dsn=libpq_dsn(settings.database_url), engine=engine,
                     notifier=services.notifier, instance=instance,
                     retention_hours=settings.event_retention_hours)
    services.bus = bus
    services.panel_hub.missed_pops = bus.missed_pops
    services.runtime.parts.append(bus)
    services.runtime.parts.append(SharedPresence(
        board=services.panel_hub.board, bus=bus, engine=engine,
        notifier=services.notifier, instance=instance))
    services.auth.limiter = StoreLoginLimiter(
        engine=engine, max_failures=settings.login_max_failures,
        window_seconds=settings.login_window_seconds,
        user_max_failures=settings.login_user_max_failures,
        user_lockout_cap=settings.login_user_lockout_cap_seconds)
    services.limiters = PublicLimiters(
        status=StoreTokenBucket(engine=engine, family="status",
                                rate_per_minute=settings.status_lookups_per_minute),
        open311_post=StoreTokenBucket(engine=engine, family="open311-post",
                                      rate_per_minute=settings.open311_posts_per_minute),
        open311_read=StoreTokenBucket(engine=engine, family="open311-read",
                                      rate_per_minute=settings.open311_reads_per_minute))


def instance_name(settings: Settings) -> str:
    return settings.instance_name or default_instance_name()


def lease_factory(settings: Settings) -> LeaseFactory | None:
    """On PostgreSQL, each PBX's AMI is consumed under its lease (several instances may
    run); on SQLite there is one process and no lease."""
    if not is_postgres(settings.database_url):
        return None
    dsn, instance = libpq_dsn(settings.database_url), instance_name(settings)

    def lease(pbx: str, on_acquired: Hook, on_lost: Hook) -> AmiLease:
        return AmiLease(dsn=dsn, pbx=pbx, instance=instance, on_acquired=on_acquired,
                        on_lost=on_lost, retry_seconds=settings.lease_retry_seconds,
                        heartbeat_seconds=settings.lease_heartbeat_seconds)

    return lease


def shahrbin_deliverer(settings: Settings, engine: Engine, config: ShahrbinConfig
                        ) -> OutboxDeliverer | None:
    if not settings.shahrbin_enabled:
        return None
    # The setting is a total deadline per delivery (the deliverer enforces it); the
    # per-read timeout only has to be no longer.
    deadline = settings.shahrbin_timeout_seconds
    return OutboxDeliverer(
        engine=engine, config=config, http=httpx.AsyncClient(timeout=deadline),
        token=settings.shahrbin_api_token.get_secret_value(),
        max_attempts=settings.shahrbin_max_attempts,
        max_backoff_seconds=settings.shahrbin_max_backoff_seconds,
        deadline_seconds=deadline, links=LinkSigner.from_settings(settings),
    )


def _followup_runner(services: Services, scheduler: AsyncIOScheduler) -> FollowupRunner | None:
    """The runner over the SMS service, AMI actions and queue view; its job is added."""
    settings = services.settings
    if not settings.followups_enabled:
        return None
    runner = FollowupRunner(
        engine=services.engine, config=RunnerConfig.from_settings(settings),
        policy=policy_from_settings(settings, holidays=services.calendar.holidays
                                    if services.calendar else None),
        sms=services.sms.service, durable_sms=True, actions=services.holder_actions,
        queue_state=services.queue_state, calendar=services.calendar,
    )
    install_job(scheduler=scheduler, runner=runner,
                interval_seconds=settings.followups_interval_seconds)
    return runner


def _install_retention(settings: Settings, engine: Engine, scheduler: AsyncIOScheduler) -> None:
    """Recordings older than ``recording_retention_days`` removed (0: kept for ever)."""
    if settings.recording_retention_days > 0:
        install_retention(scheduler=scheduler,
                          retention=RecordingRetention(engine=engine, settings=settings),
                          interval_seconds=settings.recording_retention_interval_seconds)
