"""Asterisk AGI: the FastAGI server, the AGI channel and the classic AGI entry point.

The IVR flows of :mod:`ivr_flows` run on an :class:`~callcenter.agi.channel.AgiChannel`;
:class:`~callcenter.agi.server.FastAgiServer` serves them on 127.0.0.1:4573 and
:func:`callcenter.agi.classic.main` (console script ``callcenter-agi``) runs them
as a classic stdin AGI script.  Routes map a script name to a
:data:`~callcenter.agi.session.Handler`.
"""

from callcenter.agi.channel import AgiChannel
from callcenter.agi.server import FastAgiServer, FastAgiState
from callcenter.agi.session import Handler, SessionOutcome

__all__ = ["AgiChannel", "FastAgiServer", "FastAgiState", "Handler", "SessionOutcome"]
