"""Prompt names the flows play, the catalogue that holds their text, and a startup check.

Flows refer to prompts only through :class:`Prompt`, :func:`status_prompt` and
:func:`dept_prompt`, so a test can prove that every name a flow may play has
text in ``config/prompts/catalogue.yaml`` (and hence a generated sound file).
The catalogue goes with the code (its names are the flows'), so it is read from the
package (``callcenter/defaults`` links to ``config/``), never from the operator's files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_CATALOGUE",
    "CatalogueEntry",
    "Prompt",
    "dept_prompt",
    "load_catalogue",
    "missing_prompts",
    "status_prompt",
]

DEFAULT_CATALOGUE = (Path(__file__).resolve().parent.parent
                     / "callcenter" / "defaults" / "prompts" / "catalogue.yaml")

AUDIO_EXTENSIONS = ("wav", "WAV", "gsm", "ulaw", "alaw", "sln", "sln16", "g722", "g729", "mp3")
"""File formats Asterisk can play that a real recording may come in."""


class Prompt(StrEnum):
    """Every fixed prompt a flow plays (the file name without extension)."""

    GREETING = "greeting"
    OPEN_REQUEST_NOTICE = "open-request-notice"
    OPEN_REQUEST_STATUS = "open-request-status"
    OPEN_REQUESTS_OFFER = "open-requests-offer"
    OPEN_REQUESTS_ALL = "open-requests-all"
    REQUEST_CODE = "request-code"
    MENU_MAIN = "menu-main"
    MENU_LIMITED = "menu-limited"
    CLOSED_HOURS = "closed-hours"
    NO_AGENTS = "no-agents"
    INVALID_CHOICE = "invalid-choice"
    NO_INPUT = "no-input"
    TOO_MANY_TRIES = "too-many-tries"
    TECHNICAL_ERROR = "technical-error"
    MENU_CATEGORIES = "menu-categories"
    MENU_DISTRICTS = "menu-districts"
    PLACE_KNOWN = "place-known"
    PLACE_CONFIRM = "place-confirm"
    RECORD_INSTRUCTIONS = "record-instructions"
    REQUEST_FILED = "request-filed"
    REQUEST_ADDED = "request-added"
    YOUR_CODE_IS = "your-code-is"
    SMS_SENT = "sms-sent"
    ENTER_CODE = "enter-code"
    INVALID_CODE = "invalid-code"
    UNKNOWN_CODE = "unknown-code"
    REQUEST_STATUS_IS = "request-status-is"
    REQUEST_DEPT_IS = "request-dept-is"
    FOLLOWUP_AGENT_OFFER = "followup-agent-offer"
    PLEASE_HOLD = "please-hold"
    CALLBACK_CONFIRMED = "callback-confirmed"
    CALLBACK_NO_NUMBER = "callback-no-number"
    GOODBYE = "goodbye"
    SURVEY_INTRO = "survey-intro"
    SURVEY_RATE = "survey-rate"
    SURVEY_FIXED = "survey-fixed"
    SURVEY_THANKS = "survey-thanks"


def status_prompt(status: str) -> str:
    """The prompt that speaks a request status, e.g. ``status-in_progress``."""
    return f"status-{status}"


def hood_prompt(neighbourhood_code: str) -> str:
    """The prompt that speaks a neighbourhood, e.g. ``hood-fahadan``."""
    return f"hood-{neighbourhood_code}"


def dept_prompt(department_code: str) -> str:
    """The prompt that speaks a department, e.g. ``dept-waste``."""
    return f"dept-{department_code}"


@dataclass(frozen=True)
class CatalogueEntry:
    """One prompt of the catalogue: spoken text per language, or a synthetic tone."""

    id: str
    texts: dict[str, str]
    tone_hz: float | None = None
    tone_seconds: float | None = None


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> list[CatalogueEntry]:
    """Read and check the catalogue; a malformed entry raises ``ValueError`` naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), list):
        raise ValueError(f"{path}: expected a mapping with a 'prompts' list")
    entries: list[CatalogueEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["prompts"]):
        entry = _entry(raw, where=f"{path}: prompt #{index + 1}")
        if entry.id in seen:
            raise ValueError(f"{path}: prompt {entry.id!r} appears twice")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _entry(raw: object, *, where: str) -> CatalogueEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ValueError(f"{where}: needs an 'id'")
    prompt_id = raw["id"]
    if prompt_id.startswith("/") or ".." in prompt_id.split("/") or "." in prompt_id:
        raise ValueError(f"{where}: id {prompt_id!r} must be a relative name without extension")
    tone = raw.get("tone")
    if tone is not None:
        if not isinstance(tone, dict):
            raise ValueError(f"{where} ({prompt_id}): 'tone' must be a mapping")
        return CatalogueEntry(
            id=prompt_id,
            texts={},
            tone_hz=float(tone.get("frequency", 1000)),
            tone_seconds=float(tone.get("seconds", 0.25)),
        )
    texts = {lang: raw.get(lang) for lang in ("fa", "en")}
    for lang, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where} ({prompt_id}): missing text for language {lang!r}")
    return CatalogueEntry(id=prompt_id, texts={k: str(v) for k, v in texts.items()})


def missing_prompts(
    sounds_dir: Path | str,
    *,
    catalogue: Iterable[CatalogueEntry] | None = None,
) -> list[str]:
    """Names of catalogue prompts with no playable file under ``sounds_dir``, sorted.

    ``sounds_dir`` is one language's folder (``data/sounds/fa``). Any format
    Asterisk plays counts, so a real recording in ``.gsm`` satisfies the check.
    Blocking file I/O: call it at startup, or through ``asyncio.to_thread``.
    """
    root = Path(sounds_dir)
    entries = load_catalogue() if catalogue is None else catalogue
    return sorted(
        entry.id
        for entry in entries
        if not any((root / f"{entry.id}.{ext}").is_file() for ext in AUDIO_EXTENSIONS)
    )
