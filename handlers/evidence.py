"""Photo evidence: download each Telegram photo once and keep its bytes, content-addressed, beside the database."""

from __future__ import annotations

from telegram import Message

from bot.context import BotContext
from storage.hazard_models import PhotoRef


async def keep_photo(message: Message, context: BotContext) -> PhotoRef | None:
    """The largest size of the message's photo, stored in the evidence folder; None if it carries no photo.

    The bytes are fetched only when we do not hold them yet, so Telegram dropping the file later loses nothing.
    """
    if not message.photo:
        return None
    largest = message.photo[-1]
    services = context.services
    for known in await services.storage.hazards.photos_by_file_unique_id(largest.file_unique_id):
        if services.evidence.exists(known.sha256):
            return PhotoRef(file_id=largest.file_id, file_unique_id=largest.file_unique_id, sha256=known.sha256)
    telegram_file = await largest.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    sha256 = services.evidence.store(data)
    return PhotoRef(file_id=largest.file_id, file_unique_id=largest.file_unique_id, sha256=sha256)
