"""A generated city for the statistics and export benchmark: institutions, people, hazards with their check-backs,
drills, self-inspections and warnings with acknowledgements, written with executemany in one transaction (seconds,
not minutes).

The schema comes from the real migrations (Storage.open); the regions and the first institutions are the Wenzhou
demo data, to which generated townships, institutions and people are added.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.domain.catalog import HazardArea, Severity, SourceLevel
from bot.services.demo_data import DEMO_DATA_DIR, load_city_data
from storage import Storage

TYPES = ["elderly_care"] * 5 + ["welfare", "relief", "funeral", "lottery"] + ["social_org"] * 3 + ["other"]
HOURS = {Severity.GENERAL: 168, Severity.MAJOR: 72, Severity.SERIOUS: 24}
InstitutionRow = tuple[int, str, str, str, str, str, str]  # id, code, name_zh, name_en, type, region, risk tags


@dataclass(frozen=True)
class CitySize:
    hazards: int = 100_000
    institutions: int = 3_000
    people: int = 20_000
    warnings: int = 60


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


async def _schema(path: Path, now: datetime) -> list[str]:
    storage = await Storage.open(path, FakeClock(now))
    try:
        await load_city_data(storage, DEMO_DATA_DIR)
        return [county.code for county in await storage.regions.counties()]
    finally:
        await storage.close()


def generate(path: Path, now: datetime, size: CitySize = CitySize(), seed: int = 6) -> None:
    counties = asyncio.run(_schema(path, now))
    rng = random.Random(seed)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        townships = [f"{county}{n:03d}" for county in counties for n in range(201, 211)]
        db.executemany(
            "INSERT OR IGNORE INTO regions (code, name_zh, name_en, level, parent_code) "
            "VALUES (?, ?, ?, 'township', ?)",
            [(code, f"第{code[-2:]}镇", f"Town {code[-2:]}", code[:6]) for code in townships],
        )
        first = db.execute("SELECT COALESCE(MAX(id), 0) FROM institutions").fetchone()[0] + 1
        institutions: list[InstitutionRow] = []
        for n in range(size.institutions):
            region = rng.choice(townships)
            institutions.append((first + n, f"BX-{n:05d}", f"{region[-3:]}号机构{n}", f"Institution {n}",
                                 rng.choice(TYPES), region, json.dumps(["kitchen"] if n % 3 == 0 else [])))
        db.executemany(
            "INSERT INTO institutions (id, code, name_zh, name_en, type, region_code, risk_tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            institutions,
        )
        heads = {row[0]: 1_000_000 + index for index, row in enumerate(institutions)}
        db.executemany("UPDATE institutions SET head_user_id = ? WHERE id = ?", [(h, i) for i, h in heads.items()])
        users: list[tuple[int, str, str, str, int | None]] = [
            (h, f"院长{h}", "head", row[5], row[0]) for row, h in zip(institutions, heads.values(), strict=True)
        ]
        cadres = []
        for n in range(size.people - len(users)):
            telegram_id = 2_000_000 + n
            role, region = ("county", rng.choice(counties)) if n % 100 == 0 else ("cadre", rng.choice(townships))
            users.append((telegram_id, f"干部{n}", role, region, None))
            if role == "cadre":
                cadres.append(telegram_id)
        db.executemany(
            "INSERT INTO users (telegram_id, full_name, role, region_code, institution_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(*user, _time(now)) for user in users],
        )
        db.executemany(
            "INSERT INTO hazards (code, institution_id, region_code, area, severity, source_level, description, "
            "state, reporter_id, assignee_id, deadline, reported_at, acknowledged_at, fixed_at, closed_at, "
            "closed_on_time, measures, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_hazard(n, rng, institutions, heads, cadres, now) for n in range(size.hazards)),
        )
        _duties(db, rng, institutions, heads, now)
        _warnings(db, rng, institutions, heads, counties, size.warnings, now)
        _check_backs(db, rng, now)


def _check_backs(db: sqlite3.Connection, rng: random.Random, now: datetime, days: int = 30) -> None:
    """One check-back (回访) per closed hazard, as each acceptance plans one: pending until due, then asked, and
    most answered (one in fourteen "it came back"). Drawn last, so the rest of the city is as it was without them."""
    rows = []
    for hazard_id, closed_at, reporter_id in db.execute(
        "SELECT id, closed_at, reporter_id FROM hazards WHERE state = 'closed' ORDER BY id"
    ):
        due = datetime.fromisoformat(closed_at) + timedelta(days=days)
        state = answer = answered = None
        if due > now:
            state = "pending"
        else:
            roll = rng.random()
            answer = None if roll < 0.3 else ("again" if roll < 0.35 else "holds")
            state, answered = ("asked", None) if answer is None else ("answered", _time(due + timedelta(hours=2)))
        asked = None if state == "pending" else _time(due)
        # No history is generated, so the hazard's id stands for the acceptance's event (one closing each).
        rows.append((hazard_id, hazard_id, closed_at, reporter_id, _time(due), state, asked, answer, answered))
    db.executemany(
        "INSERT INTO check_backs (hazard_id, closed_event_id, closed_at, reporter_id, due_at, state, asked_at, answer, "
        "answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _hazard(
    n: int, rng: random.Random, institutions: list[InstitutionRow], heads: dict[int, int], cadres: list[int],
    now: datetime,
) -> tuple[object, ...]:
    institution = institutions[rng.randrange(len(institutions))]
    institution_id, region = institution[0], institution[5]
    severity = rng.choice([Severity.GENERAL] * 6 + [Severity.MAJOR] * 3 + [Severity.SERIOUS])
    reported = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    deadline = reported + timedelta(hours=HOURS[severity])
    roll = rng.random()
    fixed = closed = on_time = measures = None
    if roll < 0.75 and deadline < now + timedelta(days=3):
        fixed_at = reported + timedelta(hours=rng.uniform(1, HOURS[severity] * 1.3))
        closed_at = min(fixed_at + timedelta(hours=rng.uniform(1, 48)), now)
        state, fixed, closed = "closed", _time(fixed_at), _time(closed_at)
        on_time, measures = int(fixed_at <= deadline), "已整改：清理杂物，张贴警示标识"
    elif roll < 0.85:
        state, fixed, measures = "awaiting_verification", _time(reported + timedelta(hours=2)), "已整改"
    else:
        state = rng.choice(["reported", "assigned", "rectifying"])
    area = rng.choice(list(HazardArea))
    return (
        f"YH-{reported:%Y%m%d}-B{n:06d}", institution_id, region, area.value, severity.value,
        rng.choice(list(SourceLevel)).value, f"{area.value} 隐患描述 {n}：消防通道堆放杂物", state,
        _reporter(n, rng.choice(cadres), cadres), heads[institution_id], _time(deadline), _time(reported),
        _time(reported + timedelta(hours=1)), fixed, closed, on_time, measures, _time(now),
    )


def _reporter(n: int, drawn: int, cadres: list[int]) -> int:
    """Who reported hazard `n`: the cadre drawn, but every tenth hazard the first cadre's, a prolific reporter (10,000
    hazards) for /mine. Drawn either way, so the rest of the city is generated as before."""
    return cadres[0] if n % 10 == 0 else drawn


def _duties(
    db: sqlite3.Connection, rng: random.Random, institutions: list[InstitutionRow], heads: dict[int, int],
    now: datetime,
) -> None:
    drills, inspections = [], []
    for row in institutions:
        institution_id = row[0]
        for _ in range(rng.randrange(0, 4)):
            held = (now - timedelta(days=rng.randrange(500))).date()
            drills.append((institution_id, "fire", held.isoformat(), 30, 45, "疏散演练", heads[institution_id],
                           _time(now)))
        for back in range(12):
            month = (now.replace(day=1) - timedelta(days=back * 28)).strftime("%Y-%m")
            if rng.random() < 0.8:
                inspections.append((institution_id, month, heads[institution_id], _time(now), _time(now)))
    db.executemany(
        "INSERT INTO drills (institution_id, kind, held_on, participants, duration_minutes, practised, logged_by, "
        "logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        drills,
    )
    db.executemany(
        "INSERT OR IGNORE INTO self_inspections (institution_id, month, started_by, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?)",
        inspections,
    )


def _warnings(
    db: sqlite3.Connection, rng: random.Random, institutions: list[InstitutionRow], heads: dict[int, int],
    counties: list[str], count: int, now: datetime,
) -> None:
    for n in range(count):
        sent = now - timedelta(days=rng.randrange(365))
        targets = rng.sample(counties, 3)
        warning_id = db.execute(
            "INSERT INTO warnings (kind, level, headline, onset, target_regions, origin, status, created_at, "
            "updated_at, sent_at) VALUES ('typhoon', 'orange', ?, ?, ?, 'manual', 'sent', ?, ?, ?)",
            (f"台风橙色预警 {n}", _time(sent), json.dumps(targets), _time(sent), _time(sent), _time(sent)),
        ).lastrowid
        reached = [row for row in institutions if row[5][:6] in targets]
        db.executemany(
            "INSERT INTO warning_recipients (warning_id, kind, chat_id, institution_id, region_code, added_at) "
            "VALUES (?, 'head', ?, ?, ?, ?)",
            [(warning_id, heads[r[0]], r[0], r[5], _time(sent)) for r in reached],
        )
        db.executemany(
            "INSERT INTO warning_institutions (warning_id, institution_id, region_code) VALUES (?, ?, ?)",
            [(warning_id, r[0], r[5]) for r in reached],
        )
        db.executemany(
            "INSERT INTO warning_acks (warning_id, user_id, institution_id, response, revision, at) "
            "VALUES (?, ?, ?, 'received', 1, ?)",
            [
                (warning_id, heads[r[0]], r[0], _time(sent + timedelta(minutes=rng.expovariate(1 / 90))))
                for r in reached
                if rng.random() < 0.85
            ],
        )
