"""The follow-up runner's settings block (``RunnerConfig``) and contact policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from callcenter.followups.policy import ContactPolicy, build_policy
from callcenter.reference.hours import Holidays
from callcenter.settings import Settings


@dataclass(frozen=True)
class RunnerConfig:
    lease: timedelta = timedelta(minutes=5)
    batch: int = 20
    survey_delay: timedelta = timedelta(hours=2)
    reply_window: timedelta = timedelta(hours=24)
    lookback: timedelta = timedelta(days=7)
    call_backoff: timedelta = timedelta(hours=1)
    call_max_attempts: int = 3
    result_wait: timedelta = timedelta(minutes=15)
    callback_retry: timedelta = timedelta(minutes=5)
    auto_callbacks: bool = True
    queue_name: str = "citizen-requests"
    trunk: str = "citizens"
    context: str = "outbound"
    caller_id: str = "137"
    escalation_levels: tuple[float, ...] = (100.0, 150.0)
    close_unsurveyed_after: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerConfig:
        return cls(
            lease=timedelta(seconds=settings.followups_lease_seconds),
            batch=settings.followups_batch_size,
            survey_delay=timedelta(hours=settings.survey_sms_delay_hours),
            reply_window=timedelta(hours=settings.survey_reply_window_hours),
            lookback=timedelta(hours=settings.survey_lookback_hours),
            call_backoff=timedelta(minutes=settings.survey_call_backoff_minutes),
            call_max_attempts=settings.survey_call_max_attempts,
            result_wait=timedelta(minutes=settings.survey_call_result_wait_minutes),
            auto_callbacks=settings.auto_callbacks, queue_name=settings.queue_name,
            trunk=settings.outbound_trunk, context=settings.outbound_context,
            caller_id=settings.outbound_caller_id,
            escalation_levels=tuple(settings.escalation_levels),
            close_unsurveyed_after=timedelta(days=settings.survey_close_after_days),
        )


def policy_from_settings(settings: Settings, *, holidays: Holidays | None = None
                         ) -> ContactPolicy:
    """The contact policy; ``holidays`` the app's one calendar (read from the file when
    not given)."""
    return build_policy(zone=settings.timezone, opens=settings.calling_hours_start,
                        closes=settings.calling_hours_end,
                        open_on_friday=settings.calling_on_friday, cap=settings.contact_cap,
                        period=timedelta(hours=settings.contact_cap_period_hours),
                        holidays=holidays or Holidays.load(settings.holidays_file))
