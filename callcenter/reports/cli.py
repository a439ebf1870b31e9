"""``callcenter reports monthly 1405-09``: the monthly management report as a PDF."""

from __future__ import annotations

from typing import Annotated

import typer

reports_app = typer.Typer(help="Reports: the monthly management PDF, the daily roll-up.",
                          no_args_is_help=True)


@reports_app.command("monthly")
def monthly(month: Annotated[str, typer.Argument(help="Jalali month, e.g. 1405-09")]) -> None:
    """Build data/reports/report-YYYY-MM.pdf for a Jalali month, printing each step."""
    from callcenter.cli_settings import settings_or_exit
    from callcenter.clock import utcnow
    from callcenter.compose import prepare_store
    from callcenter.db.engine import build_engine
    from callcenter.errors import DomainError
    from callcenter.reports.monthly import build_monthly

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine, reference_dir=settings.reference_dir)
    try:
        path = build_monthly(engine=engine, settings=settings, month=month, now=utcnow(),
                             progress=typer.echo)
    except DomainError as exc:
        typer.echo(f"callcenter: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"wrote {path}")


@reports_app.command("rollup")
def rollup(full: Annotated[bool, typer.Option(help="Rebuild every day, not only the "
                                              "recent ones")] = False) -> None:
    """Bring the daily request roll-up up to yesterday (the scheduler does it hourly)."""
    from callcenter.cli_settings import settings_or_exit
    from callcenter.compose import prepare_store
    from callcenter.db.engine import build_engine
    from callcenter.reports.rollups import refresh

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine, reference_dir=settings.reference_dir)
    try:
        days = refresh(engine, timezone=settings.timezone, full=full)
    finally:
        engine.dispose()
    typer.echo("nothing to roll up" if days is None else f"rolled up {days[0]} .. {days[1]}")
