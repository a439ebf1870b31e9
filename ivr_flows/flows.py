"""The AGI script names the FastAGI server routes to, and their handlers.

``build_flows(backend=..., config=..., validate_code=...)`` is called once where
the application is built; the server looks up ``agi_network_script`` in the
returned mapping and awaits ``handler(channel)``. A handler returns when the
flow has set ``IVR_NEXT``; ``ChannelHangup``/``ChannelError`` propagate to the
server, which logs them with the uniqueid and hangs up cleanly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from ivr_flows.callback import CallbackFlow
from ivr_flows.channel import Channel
from ivr_flows.config import FlowConfig
from ivr_flows.dialog import Dialog
from ivr_flows.main import MainFlow
from ivr_flows.ports import CodeValidator, IvrBackend
from ivr_flows.survey import SurveyFlow

__all__ = ["FlowHandler", "build_flows"]

FlowHandler = Callable[[Channel], Awaitable[None]]


def build_flows(
    *,
    backend: IvrBackend,
    config: FlowConfig,
    validate_code: CodeValidator,
) -> Mapping[str, FlowHandler]:
    """Map the script names ``main``, ``callback`` and ``survey`` to their handlers."""

    async def main(channel: Channel) -> None:
        flow = MainFlow(
            dialog=Dialog(channel, config), backend=backend, validate_code=validate_code
        )
        await flow.run()

    async def callback(channel: Channel) -> None:
        await CallbackFlow(dialog=Dialog(channel, config), backend=backend).run()

    async def survey(channel: Channel) -> None:
        await SurveyFlow(dialog=Dialog(channel, config), backend=backend).run()

    return {"main": main, "callback": callback, "survey": survey}
