"""A round of the minute tick: one message per person for everything due to them, however much that is.

The sweeps claim the earliest due rows a claim limit at a time (`ReminderService.sweep_batch`: each a short stretch
of work). A person the round meets for the first time has the rest of their due rows claimed then too, a claim
limit at a time (`sweep_batch(recipient=…)`), so that all of them go into the round's one message to that person.
Before, a person's rows went out in as many messages as the rounds and chunks of the morning's backlog they fell in:
on the first morning of the generated city, 244,313 rows in 22,859 messages, and a city admin got dozens, each
listing ten and counting the rest of its own chunk.

Each person's items are gathered as the sweeps hand them over (`Gathering`): the most pressing `LISTED_ITEMS` kept
to be listed, the others counted and only their row ids kept, to be settled with the message. A city admin with
fifty thousand rows due costs the round ten items and fifty thousand ids, not fifty thousand items.

    round_ = Round(services.reminders, now, worker_id, round_rows)
    async for sweep in round_.sweeps():  # each sweep claimed, checked and built: time it, or just let it run
        ...
    for delivery in round_.deliveries():  # one per person (chat and topic), to send, then confirm or release
        ...
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime

from bot.services.reminder_items import LISTED_ITEMS, Delivery, ReminderItem, pressing_first, subject_of
from bot.services.reminder_people import Recipient, RoundReads
from bot.services.reminders import ReminderService, Sweep

# The rows of a person counted, not listed, claimed per statement: none is built, but each leaves the three indexes
# of pending rows and enters that of claims (33 to 60 µs a row at city scale, on a busy machine): 250 make a claim of
# 8 to 15 ms, under the 20 ms a sweep may take (1,000 took 32 ms, 400 took 14 to 21).
COUNT_SLICE = 250


class Gathering:
    """One person's part of a round: the items to list, what else there is, and every row it stands for.

    The subjects listed (a hazard, a duty of a period: `subject_of`) are the `LISTED_ITEMS` most pressing, each
    ranked by its most pressing item (`pressing_first`), with every item of theirs the round claimed (the message
    says each by its latest step, `handlers.reminder_text.collapse`); the other subjects are counted, their rows kept
    by id. A subject's rank only rises as its items come, so the list is exact but for one case: a subject that left
    it and then gets a more pressing item stays counted, not listed (rows come in due order, sweep after sweep, so
    an earlier step of a subject comes after a later one only when a retry fell due with them)."""

    def __init__(self, recipient: Recipient, worker_id: str) -> None:
        self.recipient = recipient
        self.worker_id = worker_id
        self._listed: dict[tuple[object, ...], list[ReminderItem]] = {}
        self._counted: set[tuple[object, ...]] = set()  # the subjects met that are not listed
        self._ids: list[int] = []

    def add(self, items: Iterable[ReminderItem]) -> None:
        for item in items:
            self._ids.append(item.reminder_id)
            subject = subject_of(item)
            if subject in self._counted:
                continue
            self._listed.setdefault(subject, []).append(item)
            if len(self._listed) > LISTED_ITEMS:
                least = max(self._listed, key=lambda key: min(map(pressing_first, self._listed[key])))
                del self._listed[least]
                self._counted.add(least)

    @property
    def list_full(self) -> bool:
        return len(self._listed) >= LISTED_ITEMS

    def count(self, rows: Iterable[tuple[int, tuple[object, ...]]]) -> None:
        """Rows to be counted, not listed: their ids, and their subjects unless listed already."""
        for reminder_id, subject in rows:
            self._ids.append(reminder_id)
            if subject not in self._listed:
                self._counted.add(subject)

    def delivery(self) -> Delivery:
        items = tuple(sorted((item for found in self._listed.values() for item in found), key=pressing_first))
        shown = {item.reminder_id for item in items}
        recipient_id, topic_id = self.recipient
        return Delivery(
            recipient_id,
            topic_id,
            self.worker_id,
            items,
            unlisted=len(self._counted),
            covered=tuple(reminder_id for reminder_id in self._ids if reminder_id not in shown),
            subjects=(*self._listed, *self._counted) if self._counted else (),
        )


class Round:
    """The sweeps of one round (up to `round_rows` rows, and the rest of each person's met before that), gathered
    into one delivery per person. `more_due`: the round stopped at its size, so more may be due already."""

    def __init__(self, reminders: ReminderService, now: datetime, worker_id: str, round_rows: int) -> None:
        self._reminders = reminders
        self._now = now
        self._worker_id = worker_id
        self._round_rows = round_rows
        self._gathered: dict[Recipient, Gathering] = {}
        self._drained: set[Recipient] = set()
        self.rows = 0
        self.more_due = False

    async def sweeps(self) -> AsyncGenerator[Sweep, None]:
        """Each sweep as it is made: the earliest due rows, then the rest of each person met for the first time."""
        shared = RoundReads()
        while True:
            sweep = await self._reminders.sweep_batch(self._now, self._worker_id, shared)
            self._take(sweep)
            yield sweep
            # A sweep that claimed less than its limit claimed everything due: nobody has any left to claim.
            met = [(d.recipient_id, d.topic_id) for d in sweep.deliveries] if sweep.full else []
            for recipient in met:
                if recipient in self._drained:
                    continue
                self._drained.add(recipient)
                async for theirs in self._rest_of(recipient, shared):
                    yield theirs
            self.more_due = sweep.full
            if not sweep.full or self.rows >= self._round_rows:
                return

    async def _rest_of(self, recipient: Recipient, shared: RoundReads) -> AsyncGenerator[Sweep, None]:
        """The rest of a person's due rows: their most pressing built and checked a claim limit at a time, until
        there are enough to list (with what the round has of theirs already); the others claimed `COUNT_SLICE` at a
        time and counted (`claim_counted`)."""
        reminders = self._reminders
        while True:
            theirs = await reminders.sweep_batch(self._now, self._worker_id, shared, recipient=recipient)
            self._take(theirs)
            yield theirs
            if not theirs.full:
                return
            # Claimed the most pressing first: once the list is full, the rest can only be counted.
            if not reminders.builds_every_row and self._gathering(recipient).list_full:
                break
        while True:
            counted = await reminders.claim_counted(self._now, self._worker_id, recipient, COUNT_SLICE)
            self.rows += len(counted)
            self._gathering(recipient).count(counted)
            yield Sweep([], len(counted), full=len(counted) >= COUNT_SLICE, counted=True)
            if len(counted) < COUNT_SLICE:
                return

    def _gathering(self, recipient: Recipient) -> Gathering:
        if recipient not in self._gathered:
            self._gathered[recipient] = Gathering(recipient, self._worker_id)
        return self._gathered[recipient]

    def _take(self, sweep: Sweep) -> None:
        self.rows += sweep.claimed
        for delivery in sweep.deliveries:
            self._gathering((delivery.recipient_id, delivery.topic_id)).add(delivery.items)

    def deliveries(self) -> list[Delivery]:
        """One per person (chat and topic) the round claimed anything for, in recipient order."""
        return [
            self._gathered[recipient].delivery()
            for recipient in sorted(self._gathered, key=lambda pair: (pair[0], pair[1] or 0))
        ]
