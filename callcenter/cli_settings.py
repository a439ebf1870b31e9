"""Settings for the ``callcenter`` commands: one loader that exits 2 on a bad setting.

Below ``cli.py`` (which mounts the sub-commands of ``ami/cli.py`` and
``followups/cli.py``) so those can use it without importing the command that mounts them.
"""

from __future__ import annotations

import typer

from callcenter.settings import Settings, SettingsError, load_settings

EXIT_CONFIG = 2


def settings_or_exit(**overrides: object) -> Settings:
    """Load settings; a bad one prints what and where, and exits 2 (no traceback)."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.echo(f"callcenter: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
