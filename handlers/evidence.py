"""Photo evidence: download each Telegram photo once and keep its bytes, content-addressed, beside the database."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, Message, Update

from bot.context import BotContext
from bot.i18n import Translator
from bot.services.hazard_core import MAX_PHOTOS
from handlers.common import answer
from storage.hazard_models import PhotoRef

SENT_AS_FILE = "photo.sent_as_file"


def photo_step_hint(message: Message | None, key: str) -> str:
    """What to say, at a step that takes photos, to a message that is not one: `key`, or, for an image sent as a file
    (a document of an image type: IMG_001.jpg picked under "File"), how to send it as a photo instead. Every photo
    step asks this, so the answer is the same wherever a photo is wanted."""
    document = None if message is None else message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return SENT_AS_FILE
    return key


async def keep_photo(message: Message, context: BotContext) -> PhotoRef | None:
    """The largest size of the message's photo, stored in the evidence folder; None if it carries no photo.

    The bytes are fetched only when we do not hold them yet, so Telegram dropping the file later loses nothing.
    """
    if not message.photo:
        return None
    largest = message.photo[-1]
    return await keep_file(largest.file_id, largest.file_unique_id, context)


async def keep_file(file_id: str, file_unique_id: str, context: BotContext) -> PhotoRef:
    """The photo Telegram names so, stored in the evidence folder (fetched only when we do not hold it yet)."""
    services = context.services
    for known in await services.storage.hazards.photos_by_file_unique_id(file_unique_id):
        if services.evidence.exists(known.sha256):
            return PhotoRef(file_id=file_id, file_unique_id=file_unique_id, sha256=known.sha256)
    telegram_file = await context.bot.get_file(file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    # Off the event loop: the write waits for the disk (fsync), and every other chat would wait with it.
    sha256 = await asyncio.to_thread(services.evidence.store, data)
    return PhotoRef(file_id=file_id, file_unique_id=file_unique_id, sha256=sha256)


async def photo_added(
    update: Update,
    message: Message,
    context: BotContext,
    t: Translator,
    photos: list[PhotoRef],
    keyboard: InlineKeyboardMarkup,
) -> list[PhotoRef] | None:
    """`photos` and the one `message` carries; None when the message carries none, or when there are MAX_PHOTOS
    already (said, with `keyboard`). The limit comes first so that a photo too many is never downloaded."""
    if len(photos) >= MAX_PHOTOS:
        await answer(update, t("refusal.too_many_photos", max=MAX_PHOTOS), reply_markup=keyboard)
        return None
    photo = await keep_photo(message, context)
    if photo is None:
        return None
    return [*photos, photo]
