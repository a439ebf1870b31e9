"""IVR flows for the 137 line, written against :mod:`ivr_flows.channel`."""
