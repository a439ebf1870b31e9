"""``POST /api/agent/break`` and queue join with values that would inject AMI lines.

What was tried (issue 12, High 1): the break reason ``x\r\n\r\nAction: Hangup\r\nChannel:
/.*/`` and an agent whose full name (sent as the queue MemberName) holds CR/LF. The
panel's real ``AmiActions`` and ``BridgeManager`` are mounted over a protocol whose
transport records every byte written: a refused value writes nothing and the agent gets
a clear 422 (before the fix the injected Hangup was written and the route said 200).
"""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from sqlmodel import select
from support.panels import Panels

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import BridgeManager, ConnectionState
from callcenter.ami.protocol import BridgeAMIProtocol
from callcenter.db.engine import session_scope
from callcenter.users.models import User

HANGUP_ALL = "x\r\n\r\nAction: Hangup\r\nChannel: /.*/"


@pytest.fixture
def wire(panels: Panels) -> MagicMock:
    """Real AMI actions over a logged-in protocol whose transport records each write."""
    manager = BridgeManager(username="bridge", secret="s")
    protocol = BridgeAMIProtocol()
    transport = MagicMock()
    protocol.connection_made(transport)
    manager.protocol = protocol
    manager.state, manager.authenticated = ConnectionState.CONNECTED, True
    panels.services.ami_actions = AmiActions(manager=manager, timeout=0.5)
    return transport


@pytest.mark.parametrize("reason", [HANGUP_ALL, "lunch\nQueue: x", "lunch\x00", "a\rb"])
def test_break_reason_with_line_breaks_is_a_422_and_nothing_is_written(
    panels: Panels, wire: MagicMock, reason: str
) -> None:
    headers = panels.as_user("ali")
    response = panels.client.post("/api/agent/break", headers=headers, json={"reason": reason})
    assert response.status_code == 422
    assert "reason" in str(response.json()["detail"][0]["loc"])
    wire.write.assert_not_called()


def test_agent_name_with_line_breaks_is_refused_at_the_ami_boundary(
    panels: Panels, wire: MagicMock
) -> None:
    with session_scope(panels.services.engine) as session:
        user = session.exec(select(User).where(User.username == "ali")).one()
        user.full_name = "Ali" + HANGUP_ALL
    headers = panels.as_user("ali")
    response = panels.client.post("/api/agent/queue/join", headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unsafe-for-phone-system"
    assert body["details"]["key"] == "MemberName"
    assert "Hangup" not in body["message"]
    wire.write.assert_not_called()
