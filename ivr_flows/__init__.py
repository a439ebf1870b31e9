"""IVR flows for the 137 line, written against :mod:`ivr_flows.channel`.

The entry point is :func:`ivr_flows.flows.build_flows`; the backend the flows
need is the :class:`ivr_flows.ports.IvrBackend` protocol.
"""
