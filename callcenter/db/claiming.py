"""Claiming due rows so that several instances never take the same one: written once,
used by the follow-up engine (``followups/store.py``) and the citizen messages'
delivery (``messages/store.py``).

* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` hands each instance different rows.
* Everywhere (SQLite, and PostgreSQL as a second guard): each claim is one conditional
  ``UPDATE ... WHERE id = :id AND <still due>``; only the instance whose UPDATE changed
  the row owns it. SQLite serialises writers, so the loser's UPDATE sees the new state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select


def claim_rows(*, session: Session, table: type[SQLModel], due: ColumnElement[bool],
               order_by: Sequence[Any], limit: int, values: dict[str, Any]) -> list[int]:
    """Set ``values`` on up to ``limit`` rows of ``table`` matching ``due`` (in
    ``order_by`` order); the ids this session claimed. The caller commits."""
    ident = col(table.id)  # type: ignore[attr-defined]
    query = select(ident).where(due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[int] = []
    for row_id in [i for i in session.exec(query).all() if i is not None]:
        result = session.execute(update(table).where(ident == row_id).where(due)
                                 .values(**values))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    return claimed
