"""Bulk import by chat: a city admin (or county staff, for their county's vulnerable-people registry) sends an XLSX
or CSV document; the bot recognises which list it is by its header row, imports it all or nothing, and answers
with the errors by row and column, or with what was imported (and, for people, a spreadsheet of their invitation
links). /template sends an empty template for each kind of list."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain.imports import ImportKind, map_headers
from bot.i18n import counted
from bot.services.errors import Refusal
from bot.services.import_text import result_text
from bot.services.imports import ImportResult, header_aliases
from bot.services.spreadsheets import MAX_IMPORT_BYTES, UnreadableFile, read_table
from handlers.common import answer, is_private
from handlers.insight_common import asker, insight_of, refuse

TEMPLATE = re.compile(r"^tp:(institutions|people|vulnerable)$")
# .xls too, to be told to save it as .xlsx or CSV (as the command line tells): left out, it got "I did not
# understand that".
SPREADSHEET = (filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("csv")
               | filters.Document.FileExtension("xls"))


def likely_kind(headers: tuple[str, ...], allowed: list[ImportKind]) -> ImportKind:
    """The list the header row is, judged among every kind, not only those the sender may import: a clerk's
    institutions file is then told "only city admins import institutions", not read as a registry with ten
    unknown columns. The best fit recognises the most columns for the fewest errors (unknown or missing); a row
    that names no column of any list is read as the sender's own list, whose errors then say what is missing."""
    fits = {kind: map_headers(kind, headers, header_aliases(kind)) for kind in ImportKind}
    if not any(mapping for mapping, _ in fits.values()):
        return min(allowed, key=lambda kind: len(fits[kind][1]))
    return max(ImportKind, key=lambda kind: (len(fits[kind][0]) - len(fits[kind][1]), kind in allowed))


async def received_spreadsheet(update: Update, context: BotContext) -> None:
    message = update.effective_message
    found = await asker(update, context)
    if message is None or message.document is None or found is None or not is_private(update):
        return
    caller, user = found
    t, imports = caller.t, insight_of(context).imports
    allowed = [kind for kind in ImportKind if imports.allowed(user, kind)]
    if not allowed:
        await refuse(update, context, caller, Refusal("import_not_allowed"), "import")
        return
    document = message.document
    if (document.file_size or 0) > MAX_IMPORT_BYTES:
        await answer(update, t("refusal.import_too_large"))
        return
    chat = update.effective_chat
    if chat is not None:
        await chat.send_chat_action(ChatAction.TYPING)
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        table = read_table(data, document.file_name or "")
    except UnreadableFile as error:
        await answer(update, t(f"refusal.import_{error.code}"))
        return
    kind = likely_kind(table.headers, allowed)
    if kind not in allowed:
        refusal = Refusal("import_kind_not_allowed", kind=t.plain(f"insight.import.kind.{kind.value}"))
        await refuse(update, context, caller, refusal, "import")
        return
    try:
        result = await imports.run(user, kind, table)
    except Refusal as refusal:
        await refuse(update, context, caller, refusal, "import")
        return
    await answer(update, result_text(result, table.headers, t))
    if result.ok and result.invitations:
        await _send_invitations(update, context, result)


async def _send_invitations(update: Update, context: BotContext, result: ImportResult) -> None:
    found = await asker(update, context)
    chat = update.effective_chat
    if found is None or chat is None:
        return
    t = found[0].t
    with tempfile.TemporaryDirectory(prefix="safety-invites-") as folder:
        path = Path(folder) / f"{t.plain('insight.invites.file_name')}.xlsx"
        insight_of(context).imports.invitations_file(result.invitations, context.bot.username, t, path)
        count = len(result.invitations)
        caption = t(counted("insight.invites.caption", count), count=count)
        await chat.send_document(path, filename=path.name, caption=caption)


async def show_templates(update: Update, context: BotContext) -> None:
    found = await asker(update, context)
    if found is None or not is_private(update):
        return
    caller, user = found
    imports = insight_of(context).imports
    kinds = [kind for kind in ImportKind if imports.allowed(user, kind)]
    if not kinds:
        await refuse(update, context, caller, Refusal("import_not_allowed"), "template")
        return
    rows = [[InlineKeyboardButton(caller.t.plain(f"button.template_{kind.value}"), callback_data=f"tp:{kind.value}")]
            for kind in kinds]
    await answer(update, caller.t("insight.import.templates"), reply_markup=InlineKeyboardMarkup(rows))


async def chose_template(update: Update, context: BotContext) -> None:
    query = update.callback_query
    match = TEMPLATE.match(query.data or "") if query is not None else None
    found = await asker(update, context)
    if query is None or match is None or found is None:
        return
    caller, user = found
    kind = ImportKind(match.group(1))
    imports = insight_of(context).imports
    if not imports.allowed(user, kind):
        await refuse(update, context, caller, Refusal("import_not_allowed"), "template")
        return
    await query.answer()
    t, chat = caller.t, update.effective_chat
    if chat is None:
        return
    with tempfile.TemporaryDirectory(prefix="safety-template-") as folder:
        path = Path(folder) / f"{t.plain(f'insight.import.kind.{kind.value}')}.xlsx"
        imports.template(kind, t, path)
        await chat.send_document(path, filename=path.name, caption=t(f"insight.import.template_caption.{kind.value}"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("template", show_templates, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(chose_template, pattern=TEMPLATE))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & SPREADSHEET, received_spreadsheet))
