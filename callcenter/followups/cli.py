"""``callcenter followups list|run-due``: the operators' view of the follow-up engine."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

followups_app = typer.Typer(help="Follow-ups: surveys, callbacks, the agents' list.",
                            no_args_is_help=True)


@followups_app.command("list")
def list_tasks(
    kind: Annotated[list[str] | None, typer.Option(help="Only these kinds")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
) -> None:
    """Open follow-ups (pending, claimed, waiting), oldest due first."""
    from callcenter.cli_settings import settings_or_exit
    from callcenter.compose import prepare_store
    from callcenter.db.engine import build_engine, session_scope
    from callcenter.followups.services import open_tasks

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine, reference_dir=settings.reference_dir)
    with session_scope(engine) as session:
        rows = open_tasks(session=session, kinds=kind or ())
        for task in rows:
            fields = {"id": task.id, "kind": task.kind, "state": task.state,
                      "due_at": task.due_at.isoformat(), "attempts": task.attempts,
                      "max_attempts": task.max_attempts, "request_id": task.request_id,
                      "assigned_user_id": task.assigned_user_id, "note": task.note}
            if as_json:
                typer.echo(json.dumps(fields, ensure_ascii=False))
            else:
                typer.echo("{id:>6} {kind:<12} {state:<8} {due_at} {attempts}/{max_attempts} "
                           "request={request_id} user={assigned_user_id} {note}"
                           .format(**fields))
        if not as_json:
            typer.echo(f"{len(rows)} open follow-up(s)")


@followups_app.command("run-due")
def run_due() -> None:
    """One runner pass now: schedule surveys, settle answers, send due SMS surveys.

    Survey calls and automatic callbacks need the AMI connection of ``serve``; this
    command leaves them for it.
    """
    from callcenter.cli_settings import settings_or_exit
    from callcenter.compose import prepare_store
    from callcenter.db.engine import build_engine
    from callcenter.followups.config import RunnerConfig, policy_from_settings
    from callcenter.followups.runner import FollowupRunner
    from callcenter.reference.calendar import opening_hours
    from callcenter.sms.build import build_sms

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine, reference_dir=settings.reference_dir)
    calendar = opening_hours(settings)
    runner = FollowupRunner(engine=engine, config=RunnerConfig.from_settings(settings),
                            policy=policy_from_settings(settings, holidays=calendar.holidays),
                            sms=build_sms(settings, engine), calendar=calendar)
    report = asyncio.run(runner.run_due())
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
