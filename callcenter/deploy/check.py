"""``callcenter check-config``: every problem of a configuration at once, not the first.

Settings are validated (all wrong keys in one report), then each file the service
reads is opened and checked as the service would, the data folder and database are
tried. Missing sound files are warnings: the service runs, and ``/health`` shows them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.locations import config_file_path, find_config
from callcenter.settings import Settings, SettingsError, load_settings

FileCheck = Callable[[Path], object]


@dataclass
class Report:
    """What ``check-config`` found: the files it read, problems, warnings."""

    used: list[tuple[str, Path]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{what}: {path}" for what, path in self.used]
        out += [f"problem: {text}" for text in self.problems]
        out += [f"warning: {text}" for text in self.warnings]
        out.append(f"{len(self.problems)} problem(s), {len(self.warnings)} warning(s)")
        return out


def check_configuration() -> Report:
    """Check settings, files, data folder and database; never raises for a bad value."""
    report = Report()
    report.used.append(("config file", config_file_path()))
    settings: Settings | None = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        report.problems.append(str(exc))
    for what, path, check in file_checks(settings):
        report.used.append((what, path))
        try:
            check(path)
        except Exception as exc:  # each file's own error, reported as text
            report.problems.append(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
    if settings is not None:
        report.problems += store_problems(settings)
        report.warnings += sound_warnings(settings)
    return report


def file_checks(settings: Settings | None) -> list[tuple[str, Path, FileCheck]]:
    """Each file the service reads, where it comes from, and how the service reads it."""
    from callcenter.reference.hours import Holidays
    from callcenter.reference.services import read_reference
    from callcenter.sms.messages import load_catalogue
    from ivr_flows.prompts import DEFAULT_CATALOGUE
    from ivr_flows.prompts import load_catalogue as load_prompts

    def where(key: str, relative: str) -> Path:
        return getattr(settings, key) if settings is not None else find_config(relative)

    checks: list[tuple[str, Path, FileCheck]] = [
        ("reference data", where("reference_dir", "reference"), read_reference),
        ("holidays", where("holidays_file", "reference/holidays.yaml"), Holidays.load),
        ("SMS messages", where("sms_messages_file", "sms_messages.yaml"), load_catalogue),
        ("prompt catalogue", DEFAULT_CATALOGUE, load_prompts),
    ]
    if settings is not None:
        from crm_bridge.config import load_shahrbin_config

        checks.append(("Shahrbin mapping", settings.shahrbin_config_file,
                       lambda path: load_shahrbin_config(settings, path)))
    return checks


def store_problems(settings: Settings) -> list[str]:
    """The data folder must be writable and the database reachable."""
    problems = [f"{key} {folder}: {why}" for key, folder in
                (("data_dir", settings.data_dir), ("recordings_dir", settings.recordings_dir))
                if (why := unwritable(folder))]
    if settings.database_url.startswith("postgresql"):
        from callcenter.db.engine import build_engine

        try:
            with build_engine(settings.database_url).connect():
                pass
        except Exception as exc:  # any driver error is the report's text
            problems.append(f"database_url: cannot connect: {str(exc).splitlines()[0]}")
    return problems


def unwritable(folder: Path) -> str | None:
    """Why the service could not write in ``folder`` (created as ``serve`` would), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"not writable ({exc.strerror or exc})"
    return None


def sound_warnings(settings: Settings) -> list[str]:
    from ivr_flows.prompts import missing_prompts

    warnings = []
    for language in ("fa", "en"):
        folder = settings.sounds_dir / language
        if not os.path.isdir(folder):
            warnings.append(f"sounds_dir {folder}: no such folder (no prompts to play)")
        elif missing := missing_prompts(folder):
            warnings.append(f"sounds_dir {folder}: {len(missing)} prompt(s) missing, e.g. "
                            f"{missing[0]} (scripts/build-prompts makes them)")
    return warnings
