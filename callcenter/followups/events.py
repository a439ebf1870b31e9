"""Domain events of the follow-up list (out through the app's notifier: the agent and
supervisor hubs push them to every open list, which then reads ``/api/tasks``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import BackgroundTasks

from callcenter.notifier import Notifier


@dataclass(frozen=True)
class TasksChanged:
    """A task was created, moved (snoozed, reassigned), acted on or closed."""

    task_id: int
    kind: str
    action: str


def announce(background: BackgroundTasks, notifier: Notifier, task_id: int, kind: str,
             action: str) -> None:
    """Publish ``TasksChanged`` once the response, and so the commit, is out (a route's
    ``DbSession`` commits when the endpoint returns; background tasks run after)."""
    async def publish() -> None:
        notifier.publish(TasksChanged(task_id=task_id, kind=kind, action=action))

    background.add_task(publish)
