"""SMS requests classified by the keyword lists of ``categories.yaml``.

A text naming the words of exactly one category (most distinct words wins; a tie is no
answer) is filed in that category; any other text goes to triage. Persian words match
inside longer words (suffixes attach: ``زباله‌ها``), English words at a word start
(``trees``, ``lights``); Arabic ي/ك, the zero-width non-joiner and case are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from sqlmodel import Session, select

from callcenter.reference.models import Category

_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": "", "ـ": ""})


def fold(text: str) -> str:
    """The form both texts and keywords are compared in."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()


def _hits(text: str, words: Iterable[str]) -> int:
    count = 0
    for word in {fold(w) for w in words if w.strip()}:
        if word.isascii():
            found = re.search(r"(?<![a-z0-9])" + re.escape(word), text) is not None
        else:
            found = word in text
        count += found
    return count


def classify_text(text: str, keywords: Mapping[str, Iterable[str]]) -> str | None:
    """The category code whose words the text names most, or ``None`` (none, or a tie)."""
    folded = fold(text)
    scores = {code: _hits(folded, words) for code, words in keywords.items()}
    best = max(scores.values(), default=0)
    winners = [code for code, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def classify_sms(*, session: Session, text: str) -> str | None:
    """``classify_text`` over the categories in the store."""
    keywords = {c.code: c.keywords or [] for c in session.exec(select(Category)).all()}
    return classify_text(text, keywords)
