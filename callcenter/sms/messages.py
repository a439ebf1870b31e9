"""The Persian SMS catalogue (``config/sms_messages.yaml``), read once at build time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from callcenter.digits import persian_digits
from callcenter.settings import PROJECT_ROOT

MESSAGES_FILE = PROJECT_ROOT / "config" / "sms_messages.yaml"


@dataclass(frozen=True)
class SmsCatalogue:
    messages: dict[str, str]
    statuses: dict[str, str]

    def render(self, key: str, **values: Any) -> str:
        """The text ``key`` with values filled in, every digit Persian."""
        return persian_digits(self.messages[key].format(**values))

    def status_label(self, status: str) -> str:
        return self.statuses.get(status, status)


def load_catalogue(path: Path = MESSAGES_FILE) -> SmsCatalogue:
    """Read the catalogue; a missing key or file fails here, not when a citizen writes."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalogue = SmsCatalogue(messages=dict(data["messages"]), statuses=dict(data["statuses"]))
    required = {"request_filed", "repeat_contact", "status_changed", "status_reply",
                "code_unknown", "opted_out", "survey_thanks", "no_survey_pending",
                "empty_message", "too_long"}
    missing = required - set(catalogue.messages)
    if missing:
        raise ValueError(f"{path}: missing messages {sorted(missing)}")
    return catalogue
