"""The ``callcenter`` command: serve, db, users, init, check-config, ami, followups."""

from __future__ import annotations

import getpass
import logging
import sys
from typing import Annotated

import typer

from callcenter.ami.cli import ami_app
from callcenter.cli_settings import settings_or_exit
from callcenter.deploy.cli import check_config, init
from callcenter.followups.cli import followups_app
from callcenter.reports.cli import reports_app

app = typer.Typer(help="137 contact-center bridge: Asterisk AMI/AGI, IVR, panels, requests.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(ami_app, name="ami")
app.add_typer(followups_app, name="followups")
app.add_typer(reports_app, name="reports")

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
    from callcenter.web.security import install_log_masking

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    # proxy_headers off: uvicorn would believe X-Forwarded-For from any loopback peer;
    # ``ratelimit.client_ip`` believes it only from ``settings.trusted_proxies``.
    uvicorn.run(create_app(settings), host=settings.web_host, port=settings.web_port,
                log_level=log_level, ws="websockets-sansio", proxy_headers=False)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the store to the newest schema and load the reference data."""
    from callcenter.app import prepare_store
    from callcenter.db.engine import build_engine
    from callcenter.db.migrate import current_revision, upgrade

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    if revision == "head":
        prepare_store(engine, reference_dir=settings.reference_dir)
    else:
        upgrade(engine, revision)
    typer.echo(f"database at revision {current_revision(engine)}")


@db_app.command("repair")
def db_repair(
    fix: Annotated[bool, typer.Option(help="Write the missing history and outbox items")] = False,
) -> None:
    """List what non-atomic SQLite transactions left behind; --fix puts it right.

    Exits 1 when it found damage and did not fix it (for monitoring), else 0.
    """
    from callcenter.app import prepare_store
    from callcenter.db.engine import build_engine, session_scope
    from callcenter.db.repair import find_damage, repair

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    try:
        prepare_store(engine, reference_dir=settings.reference_dir)
        with session_scope(engine) as session:
            damage = repair(session=session) if fix else find_damage(session=session)
    finally:
        engine.dispose()
    for item in damage:
        typer.echo(item.describe())
    verb = "fixed" if fix else "found"
    typer.echo(f"{verb} {len(damage)} problem(s)" + ("" if fix or not damage
                                                    else "; run with --fix to repair"))
    if damage and not fix:
        raise typer.Exit(1)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="agent, supervisor, admin or manager")] = "agent",
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
    prepare_store(engine, reference_dir=settings.reference_dir)
    secret = password or getpass.getpass("password: ")
    try:
        with session_scope(engine) as session:
            user = create_user(session=session, username=username, password=secret, role=role,
                               extension=extension, full_name=full_name)
    except DomainError as exc:
        typer.echo(f"callcenter: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {user.role} {user.username}" + (f" on {extension}" if extension else ""))


app.command()(init)
app.command("check-config")(check_config)


def _change_user(username: str, change: str, password: str | None = None) -> None:
    """Apply one account change in a transaction; a domain error exits 1 with its text."""
    from callcenter.app import prepare_store
    from callcenter.db.engine import build_engine, session_scope
    from callcenter.errors import DomainError
    from callcenter.users.services import change_password, set_active

    settings = settings_or_exit()
    engine = build_engine(settings.database_url)
    prepare_store(engine, reference_dir=settings.reference_dir)
    try:
        with session_scope(engine) as session:
            if change == "password":
                change_password(session=session, username=username,
                                password=password or getpass.getpass("new password: "))
            else:
                set_active(session=session, username=username, active=change == "enable")
    except DomainError as exc:
        typer.echo(f"callcenter: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    done = {"password": "password changed", "disable": "disabled", "enable": "enabled"}
    ended = "" if change == "enable" else "; every open session of this account has ended"
    typer.echo(f"{username}: {done[change]}{ended}")


@users_app.command("passwd")
def users_passwd(
    username: str,
    password: Annotated[str | None, typer.Option(
        envvar="CALLCENTER_NEW_USER_PASSWORD", help="Asked for when not given")] = None,
) -> None:
    """Set a new password; the user's sessions end (signed in again with the new one)."""
    _change_user(username, "password", password)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account: no login, and its open sessions and websockets end."""
    _change_user(username, "disable")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled account again."""
    _change_user(username, "enable")


def main() -> None:
    """Console entry point."""
    sys.exit(app())


if __name__ == "__main__":
    main()
