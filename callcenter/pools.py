"""Bounded thread pools of their own for blocking work, so one stuck dependency cannot
stall the rest: ``store`` (database work of webhooks and public APIs, call records),
``send`` (Twilio's blocking HTTP client), ``auth`` (session lookups, argon2) and ``ivr``
(the store work of a call in the IVR: a caller is waiting on every job there, so nothing
else queues in front of it).

asyncio's default executor is shared by everything that calls ``asyncio.to_thread``: with
the SQLite write lock held, webhook writes filled it and every page's session lookup
queued behind them. Each pool here has its own threads, counts its jobs, and reports in
``/health`` as ``stalled`` when its oldest running job is older than ``stall_after``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from callcenter.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    """``threads`` workers; ``run`` awaits a blocking call on one of them."""

    def __init__(self, name: str, *, threads: int, stall_after: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.threads = threads
        self.stall_after = stall_after
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None  # made on first use
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}  # job number -> when it started
        self._queued = 0
        self._numbers = itertools.count()

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        number = next(self._numbers)
        with self._lock:
            self._queued += 1

        def job() -> T:
            with self._lock:
                self._queued -= 1
                self._running[number] = self._clock()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running.pop(number, None)

        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads,
                                                thread_name_prefix=f"pool-{self.name}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(job))

    def health(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            oldest = max((now - started for started in self._running.values()), default=0.0)
            busy, queued = len(self._running), self._queued
        stalled = oldest > self.stall_after
        return {"state": "stalled" if stalled else "running", "threads": self.threads,
                "busy": busy, "queued": queued, "oldest_job_seconds": round(oldest, 1)}

    def close(self) -> None:
        """Stop taking jobs; running ones finish on their own (a stuck one cannot hold
        the shutdown). A later ``run`` makes fresh threads (an app restarted in tests)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class WorkerPools:
    """The four pools, as one part of the runtime (its health is theirs)."""

    name = "pools"

    def __init__(self, *, store: WorkerPool, send: WorkerPool, auth: WorkerPool,
                 ivr: WorkerPool | None = None) -> None:
        self.store, self.send, self.auth = store, send, auth
        self.ivr = ivr or WorkerPool("ivr", threads=2, stall_after=store.stall_after)

    @property
    def all(self) -> tuple[WorkerPool, ...]:
        return (self.store, self.send, self.auth, self.ivr)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerPools:
        stall = settings.stall_after_seconds
        return cls(store=WorkerPool("store", threads=settings.store_threads, stall_after=stall),
                   send=WorkerPool("send", threads=settings.send_threads, stall_after=stall),
                   auth=WorkerPool("auth", threads=settings.auth_threads, stall_after=stall),
                   ivr=WorkerPool("ivr", threads=settings.ivr_threads, stall_after=stall))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for pool in self.all:
            pool.close()

    def health(self) -> dict[str, Any]:
        pools = {pool.name: pool.health() for pool in self.all}
        stalled = sorted(name for name, p in pools.items() if p["state"] == "stalled")
        return {"state": "stalled" if stalled else "running", "stalled": stalled, **pools}

