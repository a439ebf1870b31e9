"""Turn a finished ``LiveCall`` record into its ``CallEnded`` summary (pure functions)."""

from __future__ import annotations

from dataclasses import replace

from callcenter.calls.events import CallEnded, Outcome, Transfer, TransferResult
from callcenter.calls.state import LiveCall

# DialEnd DialStatus -> outcome of an unanswered call. Asterisk reports a SIP 486/603
# reject as BUSY on most phones, so a rejected call usually reads "busy".
_DIAL_STATUS_OUTCOME = {
    "CANCEL": Outcome.CANCELLED,
    "NOANSWER": Outcome.MISSED,
    "BUSY": Outcome.BUSY,
    "CHANUNAVAIL": Outcome.REJECTED,
    "CONGESTION": Outcome.REJECTED,
    "DONTCALL": Outcome.REJECTED,
    "TORTURE": Outcome.REJECTED,
    "INVALIDARGS": Outcome.REJECTED,
    "REJECTED": Outcome.REJECTED,  # our reading of hangup cause 21 after a NOANSWER
    "UNCONFIRMED": Outcome.MISSED,  # picked up, never accepted (never bridged)
}


def closed(transfers: list[Transfer]) -> tuple[Transfer, ...]:
    """The call's transfers at its end: one still waiting on its target was cancelled."""
    return tuple(
        t if t.result is not None else replace(t, result=TransferResult.CANCELLED)
        for t in transfers
    )


def outcome_of(call: LiveCall) -> Outcome:
    """The outcome a caller would name: answered, abandoned in queue, cancelled..."""
    if call.answered_by is not None:
        return Outcome.ANSWERED
    if call.callback:
        return Outcome.CALLBACK
    if call.abandoned or call.queue is not None:
        return Outcome.ABANDONED
    if call.first_dialed is None:
        return Outcome.IVR_ONLY
    if not call.dial_statuses:
        # It rang and the stream ended without a DialEnd: the caller went away.
        return Outcome.CANCELLED
    return _DIAL_STATUS_OUTCOME.get(call.dial_statuses[-1], Outcome.MISSED)


def _hangup_by(call: LiveCall, outcome: Outcome, transfers: tuple[Transfer, ...]
               ) -> str | None:
    if outcome is Outcome.ANSWERED:
        moved = _last_conversation(call, transfers)
        left = [party for party in call.leave_order if party in (moved or ())]
        if left:
            # The conversation that ended the call is transferee <-> target: whichever of
            # the two left it first ended it. The transferer leaving its consultation
            # bridge completed the transfer and ended nothing; and Hangup events are no
            # guide here (a Local pair between the two delays the target's Hangup past
            # the caller's, though the target hung up first).
            return left[0]
        return call.hangup_by or call.first_real_hangup
    if outcome in (Outcome.BUSY, Outcome.REJECTED):
        return call.first_dialed
    if outcome is Outcome.MISSED:
        return None  # the PBX gave up ringing
    return call.caller or None


def _last_conversation(call: LiveCall, transfers: tuple[Transfer, ...]
                       ) -> tuple[str, str] | None:
    """(transferee, target) of the last answered transfer, or ``None`` when the caller
    ended with whoever answered first."""
    for transfer in reversed(transfers):
        if transfer.result is TransferResult.ANSWERED and transfer.answered_by:
            # The transferer handed on whoever it talked to: the caller, unless the
            # transferer is the caller itself (a click-to-call agent hands on the citizen).
            transferee = (call.answered_by if transfer.from_party == call.caller
                          else call.caller)
            if transferee:
                return transferee, transfer.answered_by
            return None
    return None


def summarize(call: LiveCall, *, ended_at: float) -> CallEnded:
    """Build the one ``CallEnded`` of this call."""
    outcome = outcome_of(call)
    transfers = closed(call.transfers)
    ended_with = call.answered_by
    for transfer in transfers:
        if transfer.result is TransferResult.ANSWERED:
            ended_with = transfer.answered_by
    waited_from = call.queue_joined_at if call.queue_joined_at is not None else call.started_at
    if call.answered_at is not None:
        wait = call.answered_at - waited_from
        talk = ended_at - call.answered_at
    elif call.abandon_wait is not None:
        wait, talk = call.abandon_wait, 0.0
    elif call.queue_left_at is not None:
        wait, talk = call.queue_left_at - waited_from, 0.0
    else:
        wait, talk = ended_at - waited_from, 0.0
    return CallEnded(
        linkedid=call.linkedid,
        at=ended_at,
        outcome=outcome,
        caller=call.caller,
        caller_name=call.caller_name,
        parties=tuple(call.parties),
        answered_by=call.answered_by,
        transfers=transfers,
        queue=call.queue,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=ended_at,
        wait_seconds=max(wait, 0.0),
        talk_seconds=max(talk, 0.0),
        hangup_by=_hangup_by(call, outcome, transfers),
        ivr_path=tuple(call.ivr_path),
        request_code=call.request_code,
        joined_late=call.joined_late,
        end_seen=call.end_seen,
        originated=call.originated,
        purpose=call.purpose,
        ended_with=ended_with,
    )
