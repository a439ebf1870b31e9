"""``callcenter init DIR`` and ``callcenter check-config``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_PROBLEMS = 2  # as a bad setting elsewhere (``callcenter.cli.EXIT_CONFIG``)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the configuration")],
    force: Annotated[bool, typer.Option(help="Replace files that exist")] = False,
) -> None:
    """Write a starting configuration in DIRECTORY for an operator to edit.

    callcenter.toml (every key commented), reference/*.yaml to edit, asterisk/*.conf
    to copy to /etc/asterisk.
    """
    from callcenter.deploy.starter import write_starter

    try:
        written = write_starter(directory, force=force)
    except (FileExistsError, OSError) as exc:
        typer.echo(f"callcenter: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in written:
        typer.echo(f"wrote {path}")
    toml = (directory / "callcenter.toml").resolve()
    typer.echo(f"next: edit them, copy asterisk/ to /etc/asterisk, then\n"
               f"  CALLCENTER_CONFIG={toml} callcenter check-config")


def check_config() -> None:
    """Check settings and every file the service reads: all problems at once, exit 2.

    Also tries the data folder and the database; missing prompt sounds are warnings.
    """
    from callcenter.deploy.check import check_configuration

    report = check_configuration()
    for line in report.lines():
        typer.echo(line, err=line.startswith("problem"))
    if report.problems:
        raise typer.Exit(EXIT_PROBLEMS)
