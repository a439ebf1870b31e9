"""The ``callcenter`` command: serve, db, users (and ami, followups... as they land)."""

from __future__ import annotations

import getpass
import logging
import sys
from typing import Annotated

import typer

from callcenter.ami.cli import ami_app
from callcenter.cli_settings import settings_or_exit
from callcenter.followups.cli import followups_app

app = typer.Typer(help="137 contact-center bridge: Asterisk AMI/AGI, IVR, panels, requests.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(ami_app, name="ami")
app.add_typer(followups_app, name="followups")

@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Web bind address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Web port (default from settings)")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
) -> None:
    """Run everything in one process: web app, FastAGI server, AMI bridge, scheduler.

    Creates and migrates the SQLite database on first run.
    """
    import uvicorn

    from callcenter.app import create_app

    overrides: dict[str, object] = {}
    if host:
        overrides["web_host"] = host
    if port is not None:
        overrides["web_port"] = port
    settings = settings_or_exit(**overrides)
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.web_host, port=settings.web_port,
                log_level=log_level, ws="websockets-sansio")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the store to the newest schema and load the reference data."""
    from callcenter.app import prepare_store
    from callcenter.db.engine import build_engine
    from callcenter.db.migrate import current_revision, upgrade

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    if revision == "head":
        prepare_store(engine)
    else:
        upgrade(engine, revision)
    typer.echo(f"database at revision {current_revision(engine)}")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="agent, supervisor or admin")] = "agent",
    extension: Annotated[str | None, typer.Option(help="Agent's extension, e.g. 2101")] = None,
    full_name: Annotated[str, typer.Option(help="Name shown in the panels")] = "",
    password: Annotated[str | None, typer.Option(
        envvar="CALLCENTER_NEW_USER_PASSWORD", help="Asked for when not given")] = None,
) -> None:
    """Create a staff account (an agent needs --extension)."""
    from callcenter.app import prepare_store
    from callcenter.db.engine import build_engine, session_scope
    from callcenter.errors import DomainError
    from callcenter.users.services import create_user

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine)
    secret = password or getpass.getpass("password: ")
    try:
        with session_scope(engine) as session:
            user = create_user(session=session, username=username, password=secret, role=role,
                               extension=extension, full_name=full_name)
    except DomainError as exc:
        typer.echo(f"callcenter: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {user.role} {user.username}" + (f" on {extension}" if extension else ""))


def main() -> None:
    """Console entry point."""
    sys.exit(app())


if __name__ == "__main__":
    main()
