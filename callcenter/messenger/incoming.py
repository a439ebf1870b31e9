"""One citizen action, read out of a Bot API update (the library's ``Update``).

Everything the conversation needs, nothing of the library: the machine in
``conversation.py`` is tested without a Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update


@dataclass(frozen=True)
class PhotoRef:
    file_id: str
    size: int | None
    content_type: str | None  # a document's declared type; None for a photo


@dataclass(frozen=True)
class Incoming:
    update_id: int
    chat_id: int
    user_id: int
    private: bool = True
    text: str | None = None
    contact_phone: str | None = None
    contact_is_own: bool = False
    latitude: float | None = None
    longitude: float | None = None
    photo: PhotoRef | None = None
    callback_id: str | None = None
    callback_data: str | None = None


def read_update(update: Update) -> Incoming | None:
    """The action in ``update``; None for kinds the bot ignores (edits, channel posts)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        return Incoming(update_id=update.update_id, chat_id=query.message.chat.id,
                        user_id=query.from_user.id, callback_id=query.id,
                        callback_data=query.data)
    message = update.message
    if message is None or message.from_user is None:
        return None
    photo: PhotoRef | None = None
    if message.photo:
        biggest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        photo = PhotoRef(biggest.file_id, biggest.file_size, None)
    elif message.document is not None:
        doc = message.document
        photo = PhotoRef(doc.file_id, doc.file_size, doc.mime_type or "application/octet-stream")
    contact = message.contact
    location = message.location
    return Incoming(
        update_id=update.update_id, chat_id=message.chat.id, user_id=message.from_user.id,
        private=message.chat.type == "private", text=message.text,
        contact_phone=contact.phone_number if contact else None,
        # The contact button sends the sender's own card; a forwarded card is someone else.
        contact_is_own=bool(contact and contact.user_id == message.from_user.id),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None, photo=photo,
    )
