"""``POST /bot/webhook``: the platform's webhook. Thin: bounded read, authenticate,
hand to ``BotChannel.handle``, answer 200.

Authentication: Telegram sends ``setWebhook``'s ``secret_token`` back in
``X-Telegram-Bot-Api-Secret-Token`` on every update. Bale's Bot API sends no header,
so there the same secret is the last path segment (``/bot/webhook/<secret>``, the URL
we register). Missing or wrong -> 403 before anything is parsed or stored.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callcenter.deps import AppServices
from callcenter.errors import DomainError, InvalidInput, NotFound
from callcenter.intake.http_input import parse_json_object, read_limited
from callcenter.messenger.channel import WEBHOOK_PATH

router = APIRouter(tags=["bot"])
MAX_BODY_BYTES = 256 * 1024  # an update is a few KB (a photo is a file id, not bytes)
SECRET_HEADER = "x-telegram-bot-api-secret-token"


class ForgedUpdate(DomainError):
    error_id = "bad-bot-secret"
    status_code = 403


def _same(given: str, secret: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), secret.encode())


@router.post(WEBHOOK_PATH)
@router.post(WEBHOOK_PATH + "/{path_secret}")
async def bot_webhook(request: Request, services: AppServices,
                      path_secret: str = "") -> Response:
    channel = services.bot
    settings = services.settings
    if channel is None or settings.bot_mode != "webhook":
        raise NotFound("the bot is not enabled in webhook mode")
    secret = settings.bot_webhook_secret.get_secret_value()
    given = (request.headers.get(SECRET_HEADER, "") if settings.bot_platform == "telegram"
             else path_secret)
    if not _same(given, secret):
        raise ForgedUpdate("bot webhook secret missing or wrong")
    data = parse_json_object(await read_limited(request, MAX_BODY_BYTES))
    if not isinstance(data.get("update_id"), int):
        raise InvalidInput("update_id missing")
    await channel.handle(data)
    return Response(status_code=200)
