"""Where the service finds its files: the operator's own, else the packaged defaults.

The files the service reads (``callcenter.toml``, ``reference/*.yaml``,
``sms_messages.yaml``, ``shahrbin.yaml``) are looked for, first match wins, in:

1. an explicit setting naming the file (``holidays_file``, ``reference_dir``...;
   for ``callcenter.toml`` itself that is ``CALLCENTER_CONFIG``),
2. the folder of the file named by ``CALLCENTER_CONFIG``,
3. the current directory,
4. the packaged defaults (``callcenter/defaults``, shipped inside the wheel).

``callcenter/defaults`` is a symbolic link to the checkout's ``config/`` folder, so
each default has one source: the build copies the files behind the link into the
wheel, and a checkout reads them through the link.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGED_DEFAULTS = Path(__file__).resolve().parent / "defaults"
CONFIG_FILE_NAME = "callcenter.toml"
CONFIG_ENV = "CALLCENTER_CONFIG"


def named_config_file() -> Path | None:
    """The file ``CALLCENTER_CONFIG`` names, if it is set (it need not exist yet)."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    return Path(named).expanduser() if named else None


def search_dirs() -> list[Path]:
    """The folders searched for the operator's files, in order (steps 2-4 above)."""
    named = named_config_file()
    dirs = [named.parent] if named is not None else []
    return [*dirs, Path.cwd(), PACKAGED_DEFAULTS]


def config_file_path() -> Path:
    """``callcenter.toml``: ``CALLCENTER_CONFIG``, else ``./callcenter.toml``, else packaged."""
    named = named_config_file()
    if named is not None:
        return named
    local = Path.cwd() / CONFIG_FILE_NAME
    return local if local.is_file() else PACKAGED_DEFAULTS / CONFIG_FILE_NAME


def find_config(relative: str) -> Path:
    """The first ``<folder>/<relative>`` that exists; the packaged one when none does."""
    for folder in search_dirs():
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return PACKAGED_DEFAULTS / relative


def packaged(relative: str) -> Path:
    """A packaged default file (what ``callcenter init`` copies out for editing)."""
    return PACKAGED_DEFAULTS / relative
