"""Running one IVR handler on one call, the same way for FastAGI and classic AGI.

A handler is ``async def handler(channel: Channel) -> None``.  When it returns,
the call goes back to the dialplan (e.g. on to ``Queue()``), so nothing is hung
up.  When it fails, is cut off by the session deadline, or the caller is gone,
the failure is logged with the call's uniqueid and the channel is hung up.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable

from callcenter.agi.channel import AgiChannel, AgiTimeout
from callcenter.agi.protocol import AgiProtocolError
from ivr_flows.channel import Channel, ChannelError, ChannelHangup

__all__ = ["Handler", "SessionOutcome", "run_handler"]

log = logging.getLogger(__name__)

Handler = Callable[[Channel], Awaitable[None]]
"""What a route maps to: one IVR flow entry point."""


class SessionOutcome(enum.Enum):
    """How a session ended; the server counts these for ``/health``."""

    COMPLETED = "completed"
    """The handler returned; the dialplan continues."""
    HANGUP = "hangup"
    """The caller hung up (or Asterisk closed the connection)."""
    TIMEOUT = "timeout"
    """Asterisk stopped answering (half-open connection)."""
    DEADLINE = "deadline"
    """The session ran past its deadline and was hung up."""
    FAILED = "failed"
    """The handler raised, or the peer spoke garbage; hung up."""


async def run_handler(
    channel: AgiChannel, handler: Handler, *, deadline: float
) -> SessionOutcome:
    """Run ``handler`` on ``channel`` for at most ``deadline`` seconds.

    Never raises, except :class:`asyncio.CancelledError` (server shutdown), and
    then only after hanging up.
    """
    uid = channel.uniqueid
    outcome = SessionOutcome.FAILED
    try:
        async with asyncio.timeout(deadline):
            await handler(channel)
        outcome = SessionOutcome.COMPLETED
    except AgiTimeout as exc:
        outcome = SessionOutcome.TIMEOUT
        log.warning("call %s: Asterisk stopped answering: %s", uid, exc)
    except ChannelHangup as exc:
        outcome = SessionOutcome.HANGUP
        log.info("call %s: caller hung up (%s)", uid, type(exc).__name__)
        log.debug("call %s: hangup detail: %s", uid, exc)
    except TimeoutError:
        outcome = SessionOutcome.DEADLINE
        log.warning("call %s: session deadline of %.0f s reached, hanging up", uid, deadline)
    except ChannelError as exc:
        log.error("call %s: AGI command failed in %r: %s", uid, channel.script, exc)
    except AgiProtocolError as exc:
        log.error("call %s: Asterisk sent something that is not AGI: %s", uid, exc)
    except Exception:
        log.exception("call %s: handler %r failed", uid, channel.script)
    finally:
        if outcome is not SessionOutcome.COMPLETED:
            await channel.hangup()
    return outcome
