"""AMI errors, each with a stable id the HTTP layer can map once."""

from __future__ import annotations


class AmiError(Exception):
    """Base of every AMI failure."""

    error_id = "ami-error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class AmiNotConnected(AmiError):
    """The action was not sent: there is no logged-in AMI connection right now."""

    error_id = "ami-not-connected"


class AmiDisconnected(AmiError):
    """The connection dropped while the action waited for its answer.

    The action is NOT re-sent on reconnect (panoramisk would re-send it: an Originate
    could ring a citizen twice). Whether to try again is the caller's decision.
    """

    error_id = "ami-disconnected"


class AmiActionFailed(AmiError):
    """Asterisk answered the action with an error."""

    error_id = "ami-action-failed"


class AmiTimeout(AmiError):
    """No answer within the time allowed."""

    error_id = "ami-timeout"


class OriginateFailed(AmiActionFailed):
    """The originated call did not connect (busy, no answer, bad destination...)."""

    error_id = "originate-failed"


class AmiInvalidValue(AmiError):
    """An action was refused before it was sent: a key or value could inject AMI lines.

    Nothing reached Asterisk. Raised by ``callcenter.ami.validation.check_action``.
    """

    error_id = "ami-invalid-value"
