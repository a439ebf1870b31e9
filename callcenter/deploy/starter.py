"""``callcenter init DIR``: a starting configuration for an operator to edit.

Writes ``callcenter.toml`` with every setting present but commented out (rendered
from ``Settings`` itself, so it cannot drift from the code), copies the packaged
reference data to edit, and the Asterisk configuration to copy to ``/etc/asterisk``.
"""

from __future__ import annotations

import json
import shutil
from datetime import time
from pathlib import Path

from pydantic import SecretStr

from callcenter.locations import CONFIG_FILE_NAME, PACKAGED_DEFAULTS, packaged
from callcenter.settings import Settings, secret_keys

COPIED_FOLDERS = ("reference", "asterisk")  # the packaged folders an operator edits

HEADER = """\
# callcenter.toml: the 137 contact-center bridge's settings (written by `callcenter init`).
# Every key is shown with its default, commented out: uncomment what you change.
# Each key can also be set by the environment variable CALLCENTER_<KEY>, which wins
# over this file. Secrets belong in the service's environment file, not here.
# Found: $CALLCENTER_CONFIG, else ./callcenter.toml of the working directory.
# Files (reference/, sms_messages.yaml, shahrbin.yaml) are looked for beside this file,
# then in the working directory, then in the package: see the README, "Configuration".
# Relative paths are read from the working directory.
"""


def toml_literal(value: object) -> str:
    """``value`` as TOML (the types ``Settings`` uses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, time):
        value = value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # a JSON array/object of strings is TOML
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML string


def shown_default(value: object) -> tuple[object, str]:
    """A computed path shown relative to its base (not this machine's path), and why."""
    if isinstance(value, Path) and value.is_relative_to(PACKAGED_DEFAULTS):
        return value.relative_to(PACKAGED_DEFAULTS), "found along the search order"
    if isinstance(value, Path) and value.is_relative_to(Path.cwd()):
        return value.relative_to(Path.cwd()), "in the working directory"
    return value, ""


def commented_toml() -> str:
    """Every setting as ``# key = default``, with a note on the searched and secret ones."""
    defaults = Settings.model_construct()  # the code's defaults: no file, no environment
    secrets = set(secret_keys())
    lines = [HEADER]
    for name, field in Settings.model_fields.items():
        value, why = shown_default(getattr(defaults, name))
        if name == "database_url":
            lines.append('# default: SQLite in data_dir; e.g. '
                         '"postgresql+psycopg://callcenter@127.0.0.1:5432/callcenter"')
            value = ""
        elif name in secrets:
            lines.append(f"# secret: set CALLCENTER_{name.upper()} in the environment file")
        elif field.default_factory is not None and why:
            lines.append(f"# default: {value}, {why}")
        lines.append(f"# {name} = {toml_literal(value)}")
    return "\n".join(lines) + "\n"


def starter_files(target: Path) -> dict[Path, Path | None]:
    """What ``init`` writes: destination -> packaged source (``None``: the toml)."""
    files: dict[Path, Path | None] = {target / CONFIG_FILE_NAME: None}
    for folder in COPIED_FOLDERS:
        for source in sorted(packaged(folder).iterdir()):
            if source.is_file():
                files[target / folder / source.name] = source
    return files


def write_starter(target: Path, *, force: bool = False) -> list[Path]:
    """Write the starting configuration; refuses (naming every file) to overwrite one."""
    files = starter_files(target)
    existing = [path for path in files if path.exists()]
    if existing and not force:
        raise FileExistsError("would overwrite " + ", ".join(str(p) for p in existing)
                              + " (use --force to replace them)")
    for destination, source in files.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            destination.write_text(commented_toml(), encoding="utf-8")
        else:
            shutil.copyfile(source, destination)
    return list(files)
