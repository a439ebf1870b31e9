"""Several ``callcenter serve`` instances over one PostgreSQL store (issue 19).

``lease``: one AMI consumer per PBX (a session-level advisory lock); ``single``: the
SQLite guard (one process per SQLite file); ``bus``: events through the store with
LISTEN/NOTIFY so every instance's hubs hear them; ``codec``: call events to JSON and back.
"""
