"""``BotChannel``: the bot as a runtime part. Updates in (webhook or long polling), each
acted on once; queued messages out; status pushes found every few seconds.

One update, in order: seen already? -> nothing (idempotent by update id). A photo the
conversation waits for is checked by its declared size and downloaded *before* the
transaction (the network is never awaited with the store's lock held). Then one short
transaction on the store pool: ``bot_update`` row (unique: a concurrent duplicate
rolls back whole), the conversation step, its replies as ``bot_message`` rows. Then
the deliverer is woken.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from telegram import Bot
from telegram.error import TelegramError

from callcenter.attachments.services import AttachmentRefused, check_declared
from callcenter.backoff import backoff_delay
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.policy import ContactPolicy
from callcenter.messenger import texts
from callcenter.messenger.conversation import Context, Reply, converse
from callcenter.messenger.delivery import Deliverer
from callcenter.messenger.followup import queue_status_pushes
from callcenter.messenger.incoming import Incoming, read_update
from callcenter.messenger.models import BotChat, BotMessage, BotMessageKind, BotUpdate
from callcenter.messenger.transport import ALLOWED_UPDATES, download, parse_update
from callcenter.pools import WorkerPools
from callcenter.settings import Settings
from callcenter.sms.messages import SmsCatalogue

log = logging.getLogger(__name__)
T = TypeVar("T")
WEBHOOK_PATH = "/bot/webhook"
POLL_ERROR_PAUSE_SECONDS = 5.0
CONNECT_BACKOFF_CAP_SECONDS = 60.0


class BotChannel:
    name = "bot"

    def __init__(self, *, settings: Settings, engine: Engine, pools: WorkerPools, bot: Bot,
                 catalogue: SmsCatalogue, policy: ContactPolicy,
                 attachments_root: Path) -> None:
        self.settings, self.engine, self.pools, self.bot = settings, engine, pools, bot
        self.catalogue, self.attachments_root = catalogue, attachments_root
        self.deliverer = Deliverer(bot=bot, db=self.db, policy=policy,
                                   max_attempts=settings.bot_send_max_attempts,
                                   retry_base_seconds=settings.bot_retry_base_seconds,
                                   lease=timedelta(seconds=settings.bot_lease_seconds))
        self._wake = asyncio.Event()
        self.ready = asyncio.Event()  # the platform answered getMe (and took the webhook)
        self._tasks: set[asyncio.Task[None]] = set()
        self.updates_handled = self.duplicates = 0
        self.last_error: str | None = None

    async def db(self, work: Any) -> Any:
        """``work(session)`` in one transaction on the store pool. Cancelled meanwhile
        (``stop``), it still waits for the thread to finish: no transaction is left
        open on a connection the engine is about to dispose."""
        def run() -> Any:
            with session_scope(self.engine) as session:
                return work(session)
        job = asyncio.ensure_future(self.pools.store.run(run))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            await asyncio.wait([job])
            raise

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Never fails the process: the platform unreachable at start is retried in the
        background (``/health`` says ``connecting`` with the error meanwhile)."""
        self._spawn(self._connect_then_run())

    async def _connect_then_run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # TelegramError, a refused connection, a bad token
                attempt += 1
                self.last_error = f"connect: {type(exc).__name__}"
                log.warning("bot API not reachable (%s), retrying", type(exc).__name__)
                await asyncio.sleep(backoff_delay(attempt=attempt, base=1.0,
                                                  cap=CONNECT_BACKOFF_CAP_SECONDS))
        self.ready.set()
        self.last_error = None
        if self.settings.bot_mode == "polling":
            self._spawn(self._poll_forever())
        await self._deliver_forever()

    async def _connect(self) -> None:
        await self.bot.initialize()
        if self.settings.bot_mode == "webhook":
            url = self.settings.public_base_url.rstrip("/") + WEBHOOK_PATH
            secret = self.settings.bot_webhook_secret.get_secret_value()
            if self.settings.bot_platform == "bale":  # no secret header: in the path
                await self.bot.set_webhook(url=f"{url}/{secret}")
            else:
                await self.bot.set_webhook(url=url, allowed_updates=ALLOWED_UPDATES,
                                           secret_token=secret)
        else:
            await self.bot.delete_webhook()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bot.shutdown()

    def health(self) -> dict[str, Any]:
        state = ("running" if self.ready.is_set() else "connecting") if self._tasks \
            else "stopped"
        return {"state": state,
                "platform": self.settings.bot_platform, "mode": self.settings.bot_mode,
                "updates": self.updates_handled, "duplicates": self.duplicates,
                "sent": self.deliverer.sent, "failed": self.deliverer.failed,
                "last_error": self.last_error}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- updates in ---------------------------------------------------------------------

    async def handle(self, data: dict[str, Any]) -> bool:
        """Act on one update (JSON as the Bot API sends it); False if seen before."""
        update = parse_update(data, self.bot)
        incoming = read_update(update)
        seen_state = await self.db(lambda s: _seen_and_state(s, update.update_id,
                                                             incoming))
        if seen_state is None:
            self.duplicates += 1
            return False
        ctx = Context(catalogue=self.catalogue, attachments_root=self.attachments_root,
                      max_photo_bytes=self.settings.attachment_max_bytes,
                      duplicate_window=timedelta(hours=self.settings.duplicate_window_hours))
        if incoming is not None and incoming.photo is not None and seen_state == "photo":
            await self._fetch_photo(incoming, ctx)
        done = await self.db(lambda s: self._act(s, update.update_id, incoming, ctx))
        if not done:
            self.duplicates += 1
            return False
        self.updates_handled += 1
        if incoming is not None and incoming.callback_id is not None:
            await self._answer_callback(incoming.callback_id)
        self._wake.set()
        return True

    async def _fetch_photo(self, incoming: Incoming, ctx: Context) -> None:
        assert incoming.photo is not None
        limit = self.settings.attachment_max_bytes
        try:
            check_declared(size=incoming.photo.size, content_type=incoming.photo.content_type,
                           max_bytes=limit)
            ctx.photo_bytes = await download(self.bot, file_id=incoming.photo.file_id,
                                             max_bytes=limit)
        except AttachmentRefused as exc:
            ctx.photo_refused = exc
        except TelegramError as exc:  # the platform did not give the file: ask again
            log.warning("bot photo download failed: %s", type(exc).__name__)
            ctx.photo_refused = AttachmentRefused("download failed", reason="wrong-type")

    def _act(self, session: Session, update_id: int, incoming: Incoming | None,
             ctx: Context) -> bool:
        try:
            with session.begin_nested():
                session.add(BotUpdate(update_id=update_id))
        except IntegrityError:
            return False
        if incoming is None:
            return True
        chat = session.get(BotChat, incoming.chat_id)
        if chat is None:
            chat = BotChat(chat_id=incoming.chat_id, user_id=incoming.user_id)
            session.add(chat)
        replies: list[Reply]
        if not incoming.private:
            replies = [Reply(texts.say("private_only"))]
        else:
            replies = converse(session=session, chat=chat, incoming=incoming, ctx=ctx)
        chat.updated_at = utcnow()
        session.add(chat)
        for reply in replies:
            session.add(BotMessage(chat_id=chat.chat_id, kind=BotMessageKind.REPLY,
                                   text=reply.text, markup=reply.markup,
                                   request_id=reply.request_id))
        return True

    async def _handle_logged(self, data: dict[str, Any]) -> None:
        try:
            await self.handle(data)
        except Exception as exc:  # one bad update must not stop the others
            self.last_error = f"update: {type(exc).__name__}"
            log.exception("bot update %s not handled", data.get("update_id"))

    async def _answer_callback(self, callback_id: str) -> None:
        try:  # only stops the button's spinner: not worth a retry
            await self.bot.answer_callback_query(callback_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    async def _poll_forever(self) -> None:
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.settings.bot_poll_timeout_seconds,
                    allowed_updates=ALLOWED_UPDATES)
                for update in updates:
                    offset = update.update_id + 1  # a poison update is not asked again
                    await self._handle_logged(update.to_dict())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive any one bad poll
                self.last_error = f"poll: {type(exc).__name__}"
                log.warning("bot poll failed: %s", type(exc).__name__)
                await asyncio.sleep(POLL_ERROR_PAUSE_SECONDS)

    # -- messages out -------------------------------------------------------------------

    async def run_once(self) -> int:
        """Queue new status pushes, then send what is due (the loop's body; tests)."""
        await self.db(lambda s: queue_status_pushes(session=s, catalogue=self.catalogue))
        return int(await self.deliverer.deliver_due())

    async def _deliver_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"deliver: {type(exc).__name__}"
                log.exception("bot delivery pass failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(),
                                       self.settings.bot_deliver_interval_seconds)
            except TimeoutError:
                pass


def _seen_and_state(session: Session, update_id: int, incoming: Incoming | None
                    ) -> str | None:
    """None when the update was acted on already; else the chat's state ('' if new)."""
    if session.get(BotUpdate, update_id) is not None:
        return None
    if incoming is None:
        return ""
    chat = session.get(BotChat, incoming.chat_id)
    return chat.state if chat else ""
