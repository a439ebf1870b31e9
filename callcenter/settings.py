"""One ``Settings`` for the whole service: environment variables over a TOML file.

Precedence: keyword arguments (tests), ``CALLCENTER_*`` environment variables, then the
config file (the one ``CALLCENTER_CONFIG`` names, else ``./callcenter.toml``, else the
packaged defaults: see ``callcenter.locations``). Files the service reads (reference data,
SMS texts, the Shahrbin mapping) default to the first found along the same search order.
A wrong value fails fast with the key and the file named (see ``SettingsError``).
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from callcenter.locations import config_file_path, find_config

PLACEHOLDER_PREFIXES = ("dev-", "change-me", "changeme", "placeholder", "test-", "secret")
MIN_SECRET_CHARS = 32
MIN_DISTINCT_CHARS = 8  # "aaaa...": long but trivial (random hex has ~15 of 16)
# Twilio issues auth tokens as exactly 32 lowercase hex characters.
TWILIO_TOKEN = re.compile(r"[0-9a-f]{32}")
BOT_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """A setting is missing or wrong; ``str()`` names the key and where it was read."""


class Open311Client(BaseModel):
    """One Open311 client (the municipality's app, web form, a social-media bridge)."""

    name: str
    channel: Literal["app", "web", "social"]


class PbxSettings(BaseModel):
    """One Asterisk (issue 19): its AMI login and where its own records are read.

    ``name`` keys its AMI lease and its call records ((pbx, linkedid) is unique), so it
    must stay the same for the life of the PBX."""

    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_user: str = "bridge"
    ami_secret: SecretStr = SecretStr("dev-ami-secret")
    log_dir: Path = Path("/var/log/asterisk")  # cdr-csv/Master.csv and queue_log
    inbound_context: str = "citizens"


class Settings(BaseSettings):
    """Every knob of the service. Build with ``load_settings()`` or directly in tests."""

    model_config = SettingsConfigDict(
        env_prefix="CALLCENTER_", extra="forbid", validate_default=True
    )

    environment: Literal["development", "production", "test"] = "development"
    # Run-time data (SQLite, recordings, sounds) under the working directory by default.
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "data")
    database_url: str = ""
    secret_key: SecretStr = SecretStr("dev-secret-key-change-me")

    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_user: str = "bridge"
    ami_secret: SecretStr = SecretStr("dev-ami-secret")
    ami_enabled: bool = True
    ami_max_backoff_seconds: float = Field(30.0, gt=0)
    # How often the bridge compares the calls it believes up with CoreShowChannels: a
    # call whose hangup was lost is ended (and recorded) within one period.
    ami_reconcile_seconds: float = Field(60.0, gt=0)

    # --- Several instances and several PBXs (issue 19) ---
    # Each PBX by name; empty: one PBX named ``pbx_name`` from the ami_*/pbx_* keys above
    # and below (the single-PBX settings keep working).
    pbxs: list[PbxSettings] = Field(default_factory=list)
    pbx_name: str = Field("default", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    # How this process names itself in /health and pg_stat_activity; empty: host:pid.
    instance_name: str = ""
    lease_retry_seconds: float = Field(1.0, gt=0)  # a standby tries the AMI lease this often
    lease_heartbeat_seconds: float = Field(1.0, gt=0)  # the holder checks its session
    event_retention_hours: float = Field(24.0, gt=0)  # cluster_event rows older are pruned
    # In production /metrics answers these addresses (the Prometheus scraper) and staff.
    metrics_networks: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # --- end of several-instances block ---

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(4573, ge=0, le=65535)
    agi_session_deadline_seconds: float = Field(1800.0, gt=0)
    web_host: str = "127.0.0.1"
    web_port: int = Field(8137, ge=0, le=65535)

    queue_name: str = "citizen-requests"
    recordings_dir: Path = Field(default_factory=lambda: Path.cwd() / "data" / "recordings")
    sounds_dir: Path = Field(default_factory=lambda: Path.cwd() / "data" / "sounds")

    sms_provider: Literal["log", "twilio"] = "log"
    twilio_account_sid: str = "ACdevelopment"
    twilio_auth_token: SecretStr = SecretStr("dev-twilio-token")
    twilio_from_number: str = "+98137"
    twilio_api_base_url: str = ""
    public_base_url: str = "http://127.0.0.1:8137"

    timezone: str = "Asia/Tehran"
    opening_time: time = time(7, 0)
    closing_time: time = time(22, 0)
    open_on_friday: bool = False
    # The operator's files, else the packaged defaults (search order: callcenter.locations).
    reference_dir: Path = Field(default_factory=lambda: find_config("reference"))
    holidays_file: Path = Field(default_factory=lambda: find_config("reference/holidays.yaml"))
    sms_messages_file: Path = Field(default_factory=lambda: find_config("sms_messages.yaml"))
    service_level_seconds: int = Field(20, gt=0)
    # A queued caller is offered "press 1 for a callback" after this long; 0: never by
    # timer (the queue's periodic announce still offers it). Used as a Queue() timeout.
    callback_offer_after_seconds: int = Field(60, ge=0, le=3600)
    # Wrap-up (issue 17): the agent is paused in the queue (reason "wrap-up") until they
    # press ready, or at most this long.
    wrap_up_pause: bool = True
    wrap_up_max_seconds: float = Field(120.0, gt=0)

    # --- The PBX as the bridge sees it (call recovery reads Asterisk's own records) ---
    pbx_log_dir: Path = Path("/var/log/asterisk")  # holds cdr-csv/Master.csv and queue_log
    pbx_inbound_context: str = "citizens"  # dialplan context of calls from citizens
    pbx_recordings_dir: str = "/var/spool/asterisk/recording"  # where Asterisk records
    recovery_interval_seconds: float = Field(60.0, gt=0)
    recovery_lookback_hours: float = Field(24.0, gt=0)

    # --- Intake (issue 7): duplicates, Open311, public status page, SMS retries, Shahrbin ---
    # Rule 2 of duplicates: other citizens, same category + neighbourhood, within this window.
    duplicate_window_hours: int = Field(72, gt=0)
    # Open311 api_key -> client: {"<key>": {"name": "yazd-app", "channel": "app"}}.
    open311_clients: dict[str, Open311Client] = Field(default_factory=dict)
    open311_posts_per_minute: int = Field(30, gt=0)
    status_lookups_per_minute: int = Field(20, gt=0)
    sms_max_attempts: int = Field(4, ge=1, le=10)
    sms_retry_base_seconds: float = Field(2.0, ge=0)
    sms_max_inbound_chars: int = Field(1600, gt=0)
    # Shahrbin: URL, auth header and field map live in shahrbin.yaml (not coded).
    shahrbin_enabled: bool = False
    shahrbin_config_file: Path = Field(default_factory=lambda: find_config("shahrbin.yaml"))
    shahrbin_base_url: str = ""  # overrides the file's base_url when set
    shahrbin_api_token: SecretStr = SecretStr("dev-shahrbin-token")
    shahrbin_webhook_secret: SecretStr = SecretStr("dev-shahrbin-webhook-secret")
    shahrbin_max_attempts: int = Field(8, ge=1)
    shahrbin_max_backoff_seconds: float = Field(600.0, gt=0)
    shahrbin_timeout_seconds: float = Field(10.0, gt=0)
    # --- end of intake block ---

    # --- Follow-ups (issue 8): engine, surveys, contact policy, callbacks ---
    followups_enabled: bool = True
    followups_interval_seconds: float = Field(30.0, gt=0)  # how often the engine wakes
    followups_lease_seconds: float = Field(300.0, gt=0)  # a claim's life (> longest send)
    followups_batch_size: int = Field(20, ge=1, le=500)
    survey_sms_delay_hours: float = Field(2.0, ge=0)  # after "resolved"
    survey_reply_window_hours: float = Field(24.0, gt=0)  # no SMS reply -> survey call
    survey_lookback_hours: float = Field(168.0, gt=0)  # older resolutions get no survey
    survey_call_max_attempts: int = Field(3, ge=1, le=10)
    survey_call_backoff_minutes: float = Field(60.0, ge=0)  # doubles per failed attempt
    survey_call_result_wait_minutes: float = Field(15.0, gt=0)  # answered, awaiting IVR
    calling_hours_start: time = time(9, 0)  # Asia/Tehran (``timezone``)
    calling_hours_end: time = time(20, 0)
    calling_on_friday: bool = False
    contact_cap: int = Field(3, ge=1)  # contacts per citizen ...
    contact_cap_period_hours: float = Field(168.0, gt=0)  # ... per this period
    # Place callbacks when an agent is free, in the callers' queue order (issue 17: on
    # by default; within calling hours and the contact policy).
    auto_callbacks: bool = True
    outbound_trunk: str = "citizens"  # PJSIP/<national number>@<trunk>
    outbound_context: str = "outbound"  # dialplan context with ``survey`` and ``callback``
    outbound_caller_id: str = "137"
    # A resolved request whose survey cannot run (opt-out, no answer after every retry)
    # is closed this many days after its resolution, with that reason (issue 17).
    survey_close_after_days: float = Field(7.0, gt=0)
    # Escalation levels (issue 17), in percent of a category's deadline: the first goes to
    # the department, every later one to the department's head and the supervisors' page.
    escalation_levels: list[float] = Field(default_factory=lambda: [100.0, 150.0],
                                           min_length=1)
    # --- end of follow-ups block ---

    # --- Security and reliability (issue 12, web half) ---
    session_idle_minutes: float = Field(60.0, gt=0)  # a session unused this long ends
    session_recheck_seconds: float = Field(30.0, gt=0)  # open websockets re-check theirs
    login_max_failures: int = Field(5, ge=1)  # per source address, per window
    login_window_seconds: float = Field(300.0, gt=0)
    login_user_max_failures: int = Field(20, ge=1)  # per username, over all sources ...
    login_user_lockout_cap_seconds: float = Field(60.0, gt=0)  # ... locked at most this
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); none: the
    # peer address is the client, whatever headers say.
    trusted_proxies: list[str] = Field(default_factory=list)
    open311_reads_per_minute: int = Field(60, gt=0)  # per address, every public GET
    open311_confirmations_per_phone: int = Field(3, ge=0)  # SMS per number per day ...
    store_threads: int = Field(4, ge=1, le=64)  # bounded pool for store work
    send_threads: int = Field(4, ge=1, le=64)  # bounded pool for blocking sends (Twilio)
    auth_threads: int = Field(4, ge=1, le=64)  # session lookups and argon2
    # The IVR's store work (lookups, filing) while a caller waits: few threads, so a
    # burst of calls does not turn into a GIL convoy that delays every AGI answer.
    ivr_threads: int = Field(2, ge=1, le=64)
    webhook_store_timeout_seconds: float = Field(3.0, gt=0)  # then 503 + Retry-After
    store_busy_timeout_seconds: float = Field(5.0, gt=0)  # SQLite busy wait per statement
    stall_after_seconds: float = Field(10.0, gt=0)  # a pool job older: /health degraded
    # --- end of security block ---
    # --- Citizen messages and recordings (issue 16, branch i16b) ---
    # Durable citizen messages (callcenter/messages): the sender's loop and its stall.
    messages_interval_seconds: float = Field(2.0, gt=0)  # a round at least this often
    messages_lease_seconds: float = Field(120.0, gt=0)  # a claim's life (> one send)
    messages_max_backoff_seconds: float = Field(600.0, gt=0)  # retries: sms_retry_base...
    messages_send_deadline_seconds: float = Field(30.0, gt=0)  # total, per send
    messages_stall_seconds: float = Field(300.0, gt=0)  # older waiting: /health stalled
    # Recordings: the PBX writes under ``pbx_recordings_dir``; this host reads the same
    # files under ``recordings_dir`` (a mount of that folder), else fetches them from
    # ``recordings_fetch_url`` + "/<file name>" (an HTTP server on the PBX host).
    recordings_fetch_url: str = ""
    recordings_fetch_timeout_seconds: float = Field(10.0, gt=0)  # total deadline
    recording_retention_days: int = Field(0, ge=0)  # 0 keeps recordings for ever
    recording_retention_interval_seconds: float = Field(3600.0, gt=0)
    # Signed links (callcenter/media/links.py): HMAC-SHA256 with this secret, expiring.
    media_link_secret: SecretStr = SecretStr("dev-media-link-secret-change-me")
    media_link_ttl_hours: float = Field(72.0, gt=0)
    # --- end of messages and recordings block ---
    # --- Reports (issue 15) ---
    # An abandon within this many seconds of queueing is a "short abandon" (a misdial,
    # a caller who changed their mind): counted apart, and optionally left out of the
    # service level's denominator.
    short_abandon_seconds: int = Field(5, ge=0)
    service_level_excludes_short_abandons: bool = False
    # The scheduler builds last Jalali month's PDF into data/reports/ (checked this often;
    # built once, by one instance).
    reports_monthly_enabled: bool = True
    reports_monthly_check_minutes: float = Field(60.0, gt=0)
    # --- end of reports block ---
    # --- Messenger bot (issue 20): Bale or Telegram Bot API, off by default ---
    bot_enabled: bool = False
    bot_platform: Literal["telegram", "bale"] = "telegram"
    # The Bot API server; empty: the platform's own (Telegram's or Bale's). Tests point
    # it at a local server.
    bot_api_base_url: str = ""
    bot_token: SecretStr = SecretStr("dev-bot-token")
    # webhook: the platform POSTs to /bot/webhook (public_base_url must reach us);
    # polling: we ask getUpdates (a deployment that cannot receive webhooks).
    bot_mode: Literal["webhook", "polling"] = "polling"
    bot_webhook_secret: SecretStr = SecretStr("dev-bot-webhook-secret")
    bot_poll_timeout_seconds: int = Field(25, ge=0, le=50)  # getUpdates long poll
    attachment_max_bytes: int = Field(5 * 1024 * 1024, gt=0)
    bot_send_max_attempts: int = Field(6, ge=1, le=20)
    bot_retry_base_seconds: float = Field(2.0, ge=0)
    bot_deliver_interval_seconds: float = Field(2.0, gt=0)  # outbound and status scan
    bot_lease_seconds: float = Field(120.0, gt=0)  # a deliverer's claim (> one send)
    # --- end of messenger bot block ---

    def pbx_list(self) -> list[PbxSettings]:
        """The PBXs to consume: ``pbxs``, else the single PBX of the flat settings."""
        if self.pbxs:
            return list(self.pbxs)
        return [PbxSettings(name=self.pbx_name, ami_host=self.ami_host, ami_port=self.ami_port,
                            ami_user=self.ami_user, ami_secret=self.ami_secret,
                            log_dir=self.pbx_log_dir, inbound_context=self.pbx_inbound_context)]

    @field_validator("pbxs")
    @classmethod
    def _distinct_pbxs(cls, value: list[PbxSettings]) -> list[PbxSettings]:
        names = [pbx.name for pbx in value]
        if len(set(names)) != len(names):
            raise ValueError(f"PBX names must be distinct: {names}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("trusted_proxies", "metrics_networks")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for spec in value:
            try:
                ipaddress.ip_network(spec, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or network: {spec!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        return value

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'callcenter.db'}"
        if self.opening_time >= self.closing_time:
            raise ValueError("opening_time must be before closing_time")
        if self.calling_hours_start >= self.calling_hours_end:  # follow-ups block
            raise ValueError("calling_hours_start must be before calling_hours_end")
        if self.bot_enabled and not BOT_SECRET.fullmatch(
                self.bot_webhook_secret.get_secret_value()):
            # Telegram's setWebhook takes only these; Bale's goes into the URL path.
            raise ValueError("bot_webhook_secret: only A-Z, a-z, 0-9, _ and - "
                             "(1 to 256 characters)")
        if (self.environment == "production" and self.bot_enabled
                and self.bot_mode == "webhook"
                and not self.public_base_url.startswith("https://")):
            raise ValueError("bot_mode webhook needs an https:// public_base_url "
                             "(the platforms deliver webhooks over TLS only)")

        levels = self.escalation_levels
        if levels != sorted(set(levels)) or levels[0] < 100:
            raise ValueError("escalation_levels must rise, the first at 100 (%) or later")
        if self.environment == "production":
            problems = weak_secrets(self)
            if problems:
                raise ValueError("secrets refused in production: " + "; ".join(
                    f"{key} (CALLCENTER_{key.upper()}) {why}" for key, why in problems))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)


def secret_keys() -> list[str]:
    """Every secret setting (typed ``SecretStr``): all are checked in production."""
    return [name for name, field in Settings.model_fields.items()
            if field.annotation is SecretStr]


# Secrets of a part that is off unless switched on: checked only when it is on (a
# deployment without the messenger bot needs no bot token).
SECRETS_OF_OPTIONAL_PARTS = {"bot_token": "bot_enabled", "bot_webhook_secret": "bot_enabled"}


def weak_secrets(settings: Settings) -> list[tuple[str, str]]:
    """Every secret that may not run in production, with why: missing, shorter than
    ``MIN_SECRET_CHARS``, a placeholder (after trimming), or a Twilio token that is not
    the 32 hex characters Twilio issues. All are reported at once, not the first."""
    problems: list[tuple[str, str]] = []
    values = [(key, getattr(settings, key).get_secret_value()) for key in secret_keys()
              if getattr(settings, SECRETS_OF_OPTIONAL_PARTS.get(key, "environment"))]
    # Each PBX of the list has its own AMI secret (issue 19): checked the same way.
    values += [(f"pbxs.{pbx.name}.ami_secret", pbx.ami_secret.get_secret_value())
               for pbx in settings.pbxs]
    for key, value in values:
        trimmed = value.strip()
        if not trimmed:
            problems.append((key, "is empty"))
        elif trimmed.lower().startswith(PLACEHOLDER_PREFIXES):
            problems.append((key, "is a placeholder"))
        elif key == "twilio_auth_token" and not TWILIO_TOKEN.fullmatch(trimmed.lower()):
            problems.append((key, "is not a Twilio auth token (32 hex characters)"))
        elif len(trimmed) < MIN_SECRET_CHARS:
            problems.append((key, f"is shorter than {MIN_SECRET_CHARS} characters"))
        elif len(set(trimmed)) < MIN_DISTINCT_CHARS:
            problems.append((key, "is trivial (too few distinct characters)"))
        elif trimmed != value:
            problems.append((key, "has leading or trailing spaces"))
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning any validation error into one readable ``SettingsError``."""
    path = config_file_path()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"]) or "(settings)"
            env = f"CALLCENTER_{key.upper()}" if err["loc"] else ""
            where = f"{path} [key {key}]" + (f" or environment {env}" if env else "")
            problems.append(f"{where}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
    except (OSError, ValueError) as exc:  # e.g. unreadable or malformed TOML file
        raise SettingsError(f"cannot read configuration file {path}: {exc}") from None
