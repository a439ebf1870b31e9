"""The prompt catalogue covers every name a flow or Asterisk may play; missing_prompts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ivr_flows.prompts import (
    CatalogueEntry,
    Prompt,
    dept_prompt,
    hood_prompt,
    load_catalogue,
    missing_prompts,
    status_prompt,
)

REPO = Path(__file__).resolve().parents[2]
STATUSES = ["new", "referred", "in_progress", "resolved", "closed", "rejected", "duplicate",
            "reopened"]
QUEUE_SOUNDS = ["queue-youarenext", "queue-thereare", "queue-callswaiting", "queue-holdtime",
                "queue-minutes", "queue-seconds", "queue-thankyou", "queue-periodic-announce",
                "queue-reporthold", "queue-less-than"]


@pytest.fixture(scope="module")
def ids() -> set[str]:
    return {entry.id for entry in load_catalogue()}


def test_every_flow_prompt_is_in_the_catalogue(ids: set[str]) -> None:
    assert {p.value for p in Prompt} - ids == set()


def test_statuses_digits_queue_sounds_and_beep(ids: set[str]) -> None:
    needed = {status_prompt(s) for s in STATUSES} | {f"digits/{d}" for d in range(10)}
    needed |= set(QUEUE_SOUNDS) | {"beep"}
    assert needed - ids == set()


def test_every_prompt_the_dialplan_plays_is_in_the_catalogue(ids: set[str]) -> None:
    """``Read(var,<prompt>,...)``, ``Playback``/``Background(<prompt>)`` in extensions.conf
    (the timed callback offer plays ``callback-offer`` there, not in a flow)."""
    dialplan = (REPO / "config/asterisk/extensions.conf").read_text("utf-8")
    played = set(re.findall(r"\bRead\([A-Z_]+,([\w/-]+)", dialplan))
    played |= set(re.findall(r"\b(?:Playback|Background)\(([\w/-]+)", dialplan))
    assert "callback-offer" in played
    assert played - ids == set()


def test_every_reference_department_has_a_prompt(ids: set[str]) -> None:
    data = yaml.safe_load((REPO / "config/reference/departments.yaml").read_text("utf-8"))
    codes = [d["code"] for d in data["departments"]]
    assert codes, "no departments in config/reference"
    assert {dept_prompt(code) for code in codes} - ids == set()


def test_every_reference_neighbourhood_has_a_prompt(ids: set[str]) -> None:
    data = yaml.safe_load((REPO / "config/reference/neighbourhoods.yaml").read_text("utf-8"))
    codes = [n["code"] for n in data["neighbourhoods"]]
    assert codes, "no neighbourhoods in config/reference"
    assert {hood_prompt(code) for code in codes} - ids == set()


def test_spoken_prompts_have_persian_and_english() -> None:
    for entry in load_catalogue():
        if entry.tone_hz is None:
            assert set(entry.texts) == {"fa", "en"}
            assert any("\u0600" <= ch <= "\u06ff" for ch in entry.texts["fa"]), entry.id


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("prompts: 3\n", "'prompts' list"),
        ("prompts:\n  - {fa: x, en: y}\n", "needs an 'id'"),
        ("prompts:\n  - {id: a, fa: x}\n", "missing text for language 'en'"),
        ("prompts:\n  - {id: a, fa: x, en: y}\n  - {id: a, fa: x, en: y}\n", "twice"),
        ("prompts:\n  - {id: ../etc/x, fa: x, en: y}\n", "relative name"),
        ("prompts:\n  - {id: a.wav, fa: x, en: y}\n", "without extension"),
        ("prompts:\n  - {id: a, tone: 5}\n", "'tone' must be a mapping"),
    ],
)
def test_malformed_catalogue_is_refused(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_catalogue(path)


def test_missing_prompts_names_what_is_missing(tmp_path: Path) -> None:
    entries = [
        CatalogueEntry(id="greeting", texts={"fa": "x", "en": "y"}),
        CatalogueEntry(id="digits/0", texts={"fa": "x", "en": "y"}),
        CatalogueEntry(id="goodbye", texts={"fa": "x", "en": "y"}),
        CatalogueEntry(id="beep", texts={}, tone_hz=1000, tone_seconds=0.2),
    ]
    everything = ["beep", "digits/0", "goodbye", "greeting"]
    assert missing_prompts(tmp_path, catalogue=entries) == everything
    (tmp_path / "digits").mkdir()
    (tmp_path / "digits" / "0.wav").write_bytes(b"RIFF")
    (tmp_path / "greeting.gsm").write_bytes(b"gsm")  # a real recording in another format
    (tmp_path / "goodbye").mkdir()  # a folder is not a sound file
    assert missing_prompts(tmp_path, catalogue=entries) == ["beep", "goodbye"]


def test_missing_prompts_uses_the_real_catalogue_by_default(tmp_path: Path) -> None:
    missing = missing_prompts(tmp_path)
    assert len(missing) == len(load_catalogue())
    assert "greeting" in missing and "digits/9" in missing
