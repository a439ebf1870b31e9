"""The Bot API through python-telegram-bot: one ``Bot`` whose base URL says which server.

Telegram (``https://api.telegram.org``) and Bale (``https://tapi.bale.ai``) speak the
same Bot API; tests point ``bot_api_base_url`` at a local server. Errors are translated
here: ``BotSendError.retryable`` is False for what a retry cannot fix (the citizen
blocked the bot, a malformed message).
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.request import HTTPXRequest

from callcenter.attachments.services import check_declared
from callcenter.settings import Settings

PLATFORM_URLS = {"telegram": "https://api.telegram.org", "bale": "https://tapi.bale.ai"}
ALLOWED_UPDATES = ["message", "callback_query"]
SEND_TIMEOUT_SECONDS = 10.0


class BotSendError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def api_root(settings: Settings) -> str:
    return (settings.bot_api_base_url or PLATFORM_URLS[settings.bot_platform]).rstrip("/")


def build_bot(settings: Settings) -> Bot:
    """The library's client on the configured server, with total per-call timeouts."""
    root = api_root(settings)
    timeout = SEND_TIMEOUT_SECONDS
    return Bot(
        settings.bot_token.get_secret_value(), base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout,
                             write_timeout=timeout, pool_timeout=timeout),
        # getUpdates holds the connection for the long poll; the library adds its
        # ``timeout`` to this read timeout.
        get_updates_request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout),
    )


def to_markup(markup: dict[str, Any] | None, bot: Bot) -> Any:
    """The stored Bot API JSON as the library's keyboard object."""
    if not markup:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, bot)
    if "keyboard" in markup:
        return ReplyKeyboardMarkup.de_json(markup, bot)
    return ReplyKeyboardRemove()


async def send_text(bot: Bot, *, chat_id: int, text: str, markup: dict[str, Any] | None
                    ) -> int:
    """One sendMessage; the platform's message id, or ``BotSendError``."""
    try:
        sent = await bot.send_message(chat_id=chat_id, text=text,
                                      reply_markup=to_markup(markup, bot))
    except (Forbidden, BadRequest) as exc:
        raise BotSendError(f"{type(exc).__name__}: {exc.message}", retryable=False) from exc
    except TelegramError as exc:  # timed out, network, RetryAfter, server 5xx
        raise BotSendError(f"{type(exc).__name__}: {exc.message}", retryable=True) from exc
    return sent.message_id


async def download(bot: Bot, *, file_id: str, max_bytes: int) -> bytes:
    """A file's bytes (getFile, then the file URL). ``AttachmentRefused`` when the
    platform says it is too large; ``TelegramError`` passes through."""
    file = await bot.get_file(file_id)
    check_declared(size=file.file_size, content_type=None, max_bytes=max_bytes)
    return bytes(await file.download_as_bytearray())


def parse_update(data: dict[str, Any], bot: Bot) -> Update:
    update = Update.de_json(data, bot)
    assert update is not None
    return update
