"""The delivery and its part from settings (``compose``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.engine import Engine

from callcenter.messages.delivery import DeliveryConfig, MessageDelivery
from callcenter.messages.part import MessagesPart
from callcenter.messages.ports import MessageChannel
from callcenter.pools import WorkerPools
from callcenter.settings import Settings


def build_messages(settings: Settings, engine: Engine, pools: WorkerPools,
                   channels: Mapping[str, MessageChannel] | None) -> MessagesPart:
    """``channels`` None (web-only apps): the part runs nothing and says "disabled";
    messages still queue, for a process that sends."""
    delivery = None if channels is None else MessageDelivery(
        engine=engine, channels=channels, send_runner=pools.send.run,
        store_runner=pools.store.run,
        config=DeliveryConfig(
            lease=timedelta(seconds=settings.messages_lease_seconds),
            retry_base_seconds=settings.sms_retry_base_seconds,
            max_backoff_seconds=settings.messages_max_backoff_seconds,
            send_deadline_seconds=settings.messages_send_deadline_seconds))
    return MessagesPart(delivery=delivery, interval_seconds=settings.messages_interval_seconds,
                        stall_seconds=settings.messages_stall_seconds)
