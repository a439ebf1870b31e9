"""Attachments of a request: photos and locations from any channel, checked and signed."""
