"""The live queue picture on every instance: the AMI holders' ``QueueSnapshot``s as
they arrive over the bus, merged (a ``QueueView`` for the supervisor hub, the IVR and
the follow-up runner)."""

from __future__ import annotations

import copy
from typing import Any

from callcenter.cluster.events import QueueSnapshot


class ClusterQueueView:
    def __init__(self) -> None:
        self._by_pbx: dict[str, dict[str, Any]] = {}
        self.updated_at: dict[str, float] = {}

    def apply(self, event: QueueSnapshot) -> None:
        if event.at < self.updated_at.get(event.pbx, 0.0):
            return  # an older holder's last word, after the new holder's first
        self._by_pbx[event.pbx] = event.queues
        self.updated_at[event.pbx] = event.at

    def snapshot(self) -> dict[str, Any]:
        """Queues by name; a queue on several PBXs has their members and callers."""
        merged: dict[str, Any] = {}
        for pbx in sorted(self._by_pbx):
            for name, queue in self._by_pbx[pbx].items():
                if name not in merged:
                    merged[name] = copy.deepcopy(queue)
                    continue
                for key in ("members", "waiting"):
                    merged[name].setdefault(key, []).extend(copy.deepcopy(queue.get(key, [])))
        return merged
