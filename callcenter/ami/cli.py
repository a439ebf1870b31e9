"""``callcenter ami record|replay``: a typer sub-app, mounted by ``callcenter/cli.py``.

    app.add_typer(ami_app, name="ami")

``replay`` needs no PBX and no database; ``record`` logs in with the settings' AMI user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from callcenter.ami.connection import BridgeManager
from callcenter.calls.replay import record, replay_file

ami_app = typer.Typer(
    help="Record live AMI traffic; replay recorded traffic.", no_args_is_help=True
)


@ami_app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help="JSON array of event dicts, or raw AMI text")],
) -> None:
    """Run recorded AMI events through the call tracker; print one JSON call per line."""
    try:
        calls = replay_file(file)
    except (OSError, ValueError) as exc:
        typer.echo(f"callcenter ami replay: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    for call in calls:
        typer.echo(json.dumps(call, ensure_ascii=False))


@ami_app.command("record")
def record_command(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON array of events")],
    seconds: Annotated[float | None, typer.Option(help="Stop after this long")] = None,
    max_events: Annotated[int | None, typer.Option(help="Stop after this many events")] = None,
) -> None:
    """Save live AMI events (until Ctrl-C, --seconds or --max-events) for later replay."""
    from callcenter.cli_settings import settings_or_exit

    settings = settings_or_exit()

    def manager() -> BridgeManager:
        return BridgeManager(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret.get_secret_value(),
        )

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        return await record(manager, file, seconds=seconds, max_events=max_events, stop=stop)

    count = asyncio.run(run())
    typer.echo(f"recorded {count} events to {file}", err=True)
