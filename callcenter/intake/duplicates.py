"""Duplicate rule 2: other citizens, same category and neighbourhood, within a window.

Suggested, never applied automatically: an agent or supervisor confirms (the request
becomes ``duplicate`` of the original, whose ``reporter_count`` grows) or dismisses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from callcenter.cases.models import OPEN_STATUSES, CitizenRequest, RequestEvent, RequestStatus
from callcenter.cases.services import add_event, change_status
from callcenter.clock import utcnow
from callcenter.intake.exceptions import NoSuchSuggestion, SuggestionDecided
from callcenter.intake.models import DuplicateSuggestion, SuggestionState
from callcenter.outbox.writer import OutboxKind, enqueue

MAX_SUGGESTIONS = 5


def suggest_duplicates(
    *, session: Session, request: CitizenRequest, window: timedelta
) -> list[DuplicateSuggestion]:
    """Record possible originals of a freshly filed ``request`` (newest first)."""
    if not request.neighbourhood_code:
        return []
    since = request.created_at - window
    candidates = session.exec(
        select(CitizenRequest)
        .where(CitizenRequest.category_code == request.category_code)
        .where(CitizenRequest.neighbourhood_code == request.neighbourhood_code)
        .where(CitizenRequest.citizen_id != request.citizen_id)
        .where(CitizenRequest.id != request.id)
        .where(col(CitizenRequest.status).in_([str(s) for s in OPEN_STATUSES]))
        .where(col(CitizenRequest.created_at) >= since)
        .order_by(col(CitizenRequest.created_at).desc())
        .limit(MAX_SUGGESTIONS)
    ).all()
    suggestions = [DuplicateSuggestion(request_id=request.id, original_id=c.id)  # type: ignore[arg-type]
                   for c in candidates]
    session.add_all(suggestions)
    return suggestions


def open_suggestions(*, session: Session, limit: int = 200
                     ) -> Sequence[tuple[DuplicateSuggestion, CitizenRequest, CitizenRequest]]:
    """Undecided suggestions with both requests, newest first (agents' and supervisors')."""
    rows = session.exec(
        select(DuplicateSuggestion)
        .where(DuplicateSuggestion.state == SuggestionState.SUGGESTED)
        .order_by(col(DuplicateSuggestion.id).desc()).limit(limit)
    ).all()
    result = []
    for suggestion in rows:
        request = session.get(CitizenRequest, suggestion.request_id)
        orig = session.get(CitizenRequest, suggestion.original_id)
        if request is not None and orig is not None:
            result.append((suggestion, request, orig))
    return result


def _undecided(session: Session, suggestion_id: int) -> DuplicateSuggestion:
    suggestion = session.get(DuplicateSuggestion, suggestion_id)
    if suggestion is None:
        raise NoSuchSuggestion("no duplicate suggestion with this id", id=suggestion_id)
    if suggestion.state != SuggestionState.SUGGESTED:
        raise SuggestionDecided("this suggestion was already decided", id=suggestion_id,
                                state=suggestion.state)
    return suggestion


def confirm_duplicate(*, session: Session, suggestion_id: int, actor: str) -> CitizenRequest:
    """Link the request to its original as ``duplicate``; returns the original."""
    suggestion = _undecided(session, suggestion_id)
    request = session.get(CitizenRequest, suggestion.request_id)
    original = session.get(CitizenRequest, suggestion.original_id)
    assert request is not None and original is not None
    while original.duplicate_of_id is not None:  # link to the root, never to a copy
        parent = session.get(CitizenRequest, original.duplicate_of_id)
        assert parent is not None
        original = parent
    change_status(
        session=session, request=request, to_status=RequestStatus.DUPLICATE, actor=actor,
        note=f"duplicate of {original.tracking_code}",
        data={"duplicate_of": original.tracking_code},
    )
    request.duplicate_of_id = original.id
    original.reporter_count += request.reporter_count
    original.updated_at = utcnow()
    session.add_all([request, original])
    add_event(session=session, request=original, kind="duplicate_linked", actor=actor,
              note=f"{request.tracking_code} linked as duplicate",
              data={"duplicate": request.tracking_code,
                    "reporter_count": original.reporter_count})
    now = utcnow()
    suggestion.state, suggestion.decided_by, suggestion.decided_at = (
        SuggestionState.CONFIRMED, actor, now)
    for other in session.exec(
        select(DuplicateSuggestion)
        .where(DuplicateSuggestion.request_id == request.id)
        .where(DuplicateSuggestion.state == SuggestionState.SUGGESTED)
        .where(DuplicateSuggestion.id != suggestion.id)
    ).all():
        other.state, other.decided_by, other.decided_at = SuggestionState.DISMISSED, actor, now
        session.add(other)
    session.add(suggestion)
    session.flush()
    return original


def dismiss_duplicate(*, session: Session, suggestion_id: int, actor: str) -> None:
    """Not the same problem: keep both requests as they are."""
    suggestion = _undecided(session, suggestion_id)
    suggestion.state = SuggestionState.DISMISSED
    suggestion.decided_by, suggestion.decided_at = actor, utcnow()
    session.add(suggestion)


def undo_duplicate(*, session: Session, suggestion_id: int, actor: str) -> CitizenRequest:
    """A confirmation was wrong: the request gets back the status it had before, leaves
    its original (whose ``reporter_count`` shrinks again); both histories say so, and
    Shahrbin hears of the status. Returns the request."""
    suggestion = session.get(DuplicateSuggestion, suggestion_id)
    if suggestion is None:
        raise NoSuchSuggestion("no duplicate suggestion with this id", id=suggestion_id)
    request = session.get(CitizenRequest, suggestion.request_id)
    if (suggestion.state != SuggestionState.CONFIRMED or request is None
            or request.status != RequestStatus.DUPLICATE or request.duplicate_of_id is None):
        raise SuggestionDecided("only a confirmed duplicate can be undone", id=suggestion_id,
                                state=suggestion.state)
    original = session.get(CitizenRequest, request.duplicate_of_id)
    marked = session.exec(
        select(RequestEvent).where(RequestEvent.request_id == request.id)
        .where(RequestEvent.kind == "status")
        .where(RequestEvent.to_status == RequestStatus.DUPLICATE)
        .order_by(col(RequestEvent.id).desc())
    ).first()
    back = RequestStatus(marked.from_status) if marked and marked.from_status else (
        RequestStatus.REFERRED)
    now = utcnow()
    request.status, request.duplicate_of_id, request.updated_at = back, None, now
    request.version = (request.version or 1) + 1
    add_event(session=session, request=request, kind="status", actor=actor,
              from_status=RequestStatus.DUPLICATE, to_status=back,
              note="duplicate undone", data={"undo_duplicate": suggestion_id})
    if original is not None:
        original.reporter_count = max(1, original.reporter_count - request.reporter_count)
        original.updated_at = now
        add_event(session=session, request=original, kind="duplicate_unlinked", actor=actor,
                  note=f"{request.tracking_code} is not a duplicate after all",
                  data={"duplicate": request.tracking_code,
                        "reporter_count": original.reporter_count})
        session.add(original)
    suggestion.state, suggestion.decided_by, suggestion.decided_at = (
        SuggestionState.DISMISSED, actor, now)
    session.add_all([request, suggestion])
    session.flush()
    enqueue(session=session, request=request, kind=OutboxKind.STATUS,
            extra={"actor": actor, "note": "duplicate undone"})
    session.flush()
    return request
