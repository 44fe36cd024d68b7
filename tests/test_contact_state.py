"""The kept contact state (last call / last visit per cadre and household, kept by triggers)
never drifts from the records, whatever writes them: reports, back-dated entries, undo, a
correction saved or taken back, an in-place edit of date or kind, a record moved to another
household, a deleted row, transfers that end and start pairings, concurrent reports.

After every step the kept state (and each household's contacts and home visits per month)
equals the state recomputed from the contacts (what `bangfu doctor` checks), and the reminder queries that now read the kept state name exactly the
pairings that a plain reading of the contacts says are due.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from storage.back_entry import add_back_entry
from storage.contact_state import (
    check,
    drift,
    household_drift,
    kept_households,
    kept_state,
    month_drift,
    repair,
    village_drift,
)
from storage.db import Database
from storage.duties import events_without_visit, pairings_without_contact
from storage.models import Base, Contact, ContactState, Event, Pairing
from storage.records import add_contact, restore_record, undo_record
from storage.roster_changes import end_pairings
from storage.scope_counts import scope_drift
from tests import factories as f
from tests.factories import clear_scope_counts

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)
KINDS = ("call", "visit", "other")
N_CADRES, N_HOUSEHOLDS = 3, 3

# Windows the sweep asks about: this month, this quarter, a past month (later contacts exist:
# the fallback to the contacts), a festival-like window that straddles two months.
WINDOWS = [
    (date(2026, 11, 1), date(2026, 11, 30), ("call", "visit")),
    (date(2026, 10, 1), date(2026, 12, 31), ("visit",)),
    (date(2026, 9, 1), date(2026, 9, 30), ("call", "visit")),
    (date(2026, 10, 25), date(2026, 11, 5), ("visit",)),
    (date(2026, 11, 1), date(2026, 11, 30), ("call",)),
]

contact_ix = st.integers(0, 40)
back = st.integers(0, 120)
ops = st.one_of(
    st.tuples(
        st.just("report"), st.integers(0, 2), st.integers(0, 2), st.sampled_from(KINDS), back
    ),
    st.tuples(
        st.just("back_entry"),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from(KINDS),
        st.integers(0, 400),
    ),
    st.tuples(st.just("undo"), contact_ix),
    st.tuples(st.just("restore"), contact_ix),
    st.tuples(st.just("correct"), contact_ix, st.sampled_from(KINDS), back),
    st.tuples(st.just("edit"), contact_ix, st.sampled_from(KINDS), back),
    st.tuples(st.just("move"), contact_ix, st.integers(0, 2)),
    st.tuples(st.just("delete"), contact_ix),
    st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 2)),
)


class World:
    def __init__(self, cadres: list[int], households: list[int]) -> None:
        self.cadres, self.households = cadres, households


async def _fresh(db: Database) -> World:
    async with db.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            await s.execute(delete(table))
        await clear_scope_counts(s)  # what the deletes' triggers put back
    async with db.transaction() as s:
        village = await f.unit(s, "博白县/顿谷镇/旧门村")
        cadres = [await f.cadre(s, f"干部{i}", at=village) for i in range(N_CADRES)]
        households = [
            await f.household(s, f"户主{i}", village=village) for i in range(N_HOUSEHOLDS)
        ]
        for i, hh in enumerate(households):  # one pairing each, cadre i with household i
            await f.pairing(s, cadres[i], hh)
        for hh in households:  # an event on each household, a month ago
            await f.event(s, cadres[0], hh, "illness", date(2026, 10, 20), date(2026, 10, 27))
        return World([c.id for c in cadres], [h.id for h in households])


async def _nth(s, i: int) -> Contact | None:  # type: ignore[no-untyped-def]
    rows = (await s.scalars(select(Contact).order_by(Contact.id))).all()
    return rows[i % len(rows)] if rows else None


async def _apply(db: Database, w: World, op: str, args: tuple) -> None:  # type: ignore[type-arg]
    async with db.transaction() as s:
        if op in ("report", "back_entry"):
            c, h, kind, days = args
            on = TODAY - timedelta(days=days)
            if op == "report":
                await add_contact(
                    s,
                    cadre_id=w.cadres[c],
                    household_id=w.households[h],
                    kind=kind,
                    occurred_on=on,
                    now=NOW,
                    help_tags=[],
                    summary="走访",
                )
            else:
                await add_back_entry(
                    s,
                    cadre_id=w.cadres[c],
                    household_id=w.households[h],
                    kind=kind,
                    occurred_on=on,
                    note="补录",
                    entered_by="cli:admin",
                    now=NOW,
                )
            return
        if op == "transfer":  # the household's cadre changes: old pairing ends, a new one starts
            c, h = args
            ended = (
                await s.scalars(
                    select(Pairing.id).where(
                        Pairing.household_id == w.households[h], Pairing.active.is_(True)
                    )
                )
            ).all()
            await end_pairings(s, list(ended), on=TODAY, reason="调动")
            again = await s.scalar(  # one row per (cadre, household): a return revives it
                select(Pairing).where(
                    Pairing.cadre_id == w.cadres[c], Pairing.household_id == w.households[h]
                )
            )
            if again is None:
                s.add(Pairing(cadre_id=w.cadres[c], household_id=w.households[h], start_date=TODAY))
            else:
                again.active, again.end_date, again.end_reason = True, None, ""
            return
        contact = await _nth(s, args[0])
        if contact is None:
            return
        if op == "undo":
            await undo_record(
                s, cadre_id=contact.cadre_id, kind="contact", record_id=contact.id, now=NOW
            )
        elif op == "restore":
            await restore_record(
                s, cadre_id=contact.cadre_id, kind="contact", record_id=contact.id, now=NOW
            )
        elif op == "correct":  # what a saved correction does: withdraw, then the new record
            _, kind, days = args
            await undo_record(
                s,
                cadre_id=contact.cadre_id,
                kind="contact",
                record_id=contact.id,
                now=NOW,
                action="correct",
            )
            await add_contact(
                s,
                cadre_id=contact.cadre_id,
                household_id=contact.household_id,
                kind=kind,
                occurred_on=TODAY - timedelta(days=days),
                now=NOW,
                help_tags=[],
                summary="更正",
            )
        elif op == "edit":
            _, kind, days = args
            contact.kind, contact.occurred_on = kind, TODAY - timedelta(days=days)
        elif op == "move":
            contact.household_id = w.households[args[1]]
        elif op == "delete":
            await s.delete(contact)


async def _due_from_contacts(
    db: Database, since: date, until: date, kinds: tuple[str, ...]
) -> list[int]:
    """The reference: live pairings with no such contact, read from the contacts in Python."""
    async with db.sessions() as s:
        contacts = (await s.scalars(select(Contact).where(Contact.deleted_at.is_(None)))).all()
        pairings = (await s.scalars(select(Pairing).where(Pairing.active.is_(True)))).all()
    done = {
        (c.cadre_id, c.household_id)
        for c in contacts
        if c.kind in kinds and since <= c.occurred_on <= until
    }
    return sorted(p.id for p in pairings if (p.cadre_id, p.household_id) not in done)


async def _events_from_contacts(db: Database) -> list[tuple[int, int]]:
    async with db.sessions() as s:
        contacts = (await s.scalars(select(Contact).where(Contact.deleted_at.is_(None)))).all()
        pairings = (await s.scalars(select(Pairing).where(Pairing.active.is_(True)))).all()
        events = (await s.scalars(select(Event))).all()
    return sorted(
        (e.id, p.id)
        for p in pairings
        for e in events
        if e.household_id == p.household_id
        and not any(
            c.kind == "visit"
            and (c.cadre_id, c.household_id) == (p.cadre_id, p.household_id)
            and c.occurred_on >= e.occurred_on
            for c in contacts
        )
    )


async def _check(db: Database) -> None:
    async with db.sessions() as s:
        assert await drift(s) == []
        assert await month_drift(s) == []  # contact_months: contacts and visits per month
        assert await household_drift(s) == []  # household_state: last dates by any cadre
        assert await village_drift(s) == []  # village_months: households contacted
        assert await scope_drift(s) == []  # unit_days and the households it counts
        for since, until, kinds in WINDOWS:
            rows = await pairings_without_contact(
                s, today=TODAY, since=since, until=until, kinds=kinds
            )
            assert sorted(r.pairing_id for r in rows) == await _due_from_contacts(
                db, since, until, kinds
            )
        events = await events_without_visit(s, today=TODAY)
        assert sorted(
            (e.event_id, e.pairing.pairing_id) for e in events
        ) == await _events_from_contacts(db)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(ops, min_size=1, max_size=12))
async def test_kept_state_never_drifts(db: Database, script: list[tuple]) -> None:  # type: ignore[type-arg]
    world = await _fresh(db)
    for op, *args in script:
        await _apply(db, world, op, tuple(args))
        await _check(db)


async def test_concurrent_reports_and_undos_keep_state(db: Database) -> None:
    """Many transactions at once on the same pairs (PostgreSQL runs them in parallel)."""
    w = await _fresh(db)

    async def report(i: int) -> None:
        async with db.writer(), db.transaction() as s:
            await add_contact(
                s,
                cadre_id=w.cadres[i % 2],
                household_id=w.households[0],
                kind=KINDS[i % 2],
                occurred_on=TODAY - timedelta(days=(i * 7) % 50),
                now=NOW,
                help_tags=[],
                summary="并发",
            )

    async def undo(i: int) -> None:
        async with db.writer(), db.transaction() as s:
            contact = await _nth(s, i)
            if contact is not None:
                await undo_record(
                    s, cadre_id=contact.cadre_id, kind="contact", record_id=contact.id, now=NOW
                )

    await asyncio.gather(*(report(i) for i in range(20)))
    await asyncio.gather(*(report(i) for i in range(20, 40)), *(undo(i) for i in range(0, 40, 3)))
    await _check(db)
    async with db.sessions() as s:
        assert len(await kept_state(s)) == 2  # two cadres reported on the one household
        assert list(await kept_households(s)) == [w.households[0]]


async def test_repair_puts_back_a_damaged_state(db: Database) -> None:
    w = await _fresh(db)
    for days in (3, 40):
        await _apply(db, w, "report", (0, 0, "visit", days))
    await _apply(db, w, "report", (1, 1, "call", 5))
    async with db.transaction() as s:  # damage it behind the triggers' back
        await s.execute(update(ContactState).values(last_visit_on=date(2020, 1, 1)))
        await s.execute(
            ContactState.__table__.insert().values(
                cadre_id=w.cadres[2], household_id=w.households[2], last_contact_on=TODAY
            )
        )
    async with db.sessions() as s:
        found = await drift(s)
    assert [(d.cadre_id, d.household_id) for d in found] == sorted(
        [
            (w.cadres[0], w.households[0]),
            (w.cadres[1], w.households[1]),
            (w.cadres[2], w.households[2]),
        ]
    )
    assert found[0].recomputed == (None, TODAY - timedelta(days=3), TODAY - timedelta(days=3))
    async with db.sessions() as s:  # read one cadre id at a time: the same drift, every pair
        assert await check(s, step=1) == (found, 2)
    async with db.transaction() as s:
        assert await repair(s) == 3
    await _check(db)


async def test_a_bulk_load_and_bulk_undo_in_one_transaction(db: Database) -> None:
    """8,000 pairs written at once (a restore, a data load): the state follows, and keeping it
    takes no per-pair lock slots (PostgreSQL has a few thousand per transaction)."""
    await _fresh(db)
    async with db.transaction() as s:
        village = await f.unit(s, "博白县/顿谷镇/旧门村")
        cadres = [await f.cadre(s, at=village) for _ in range(80)]
        households = [await f.household(s, village=village) for _ in range(100)]
    rows = [
        {
            "cadre_id": c.id,
            "household_id": h.id,
            "kind": KINDS[(i + j) % 2],
            "occurred_on": TODAY - timedelta(days=(i * j) % 90),
            "reported_at": NOW,
            "help_tags": [],
            "photo_refs": [],
        }
        for i, c in enumerate(cadres)
        for j, h in enumerate(households)
    ]
    async with db.transaction() as s:
        await s.execute(Contact.__table__.insert(), rows)
    async with db.sessions() as s:
        assert len(await kept_state(s)) == 8000 and await drift(s) == []
        assert len(await kept_households(s)) == 100 and await household_drift(s) == []
    async with db.transaction() as s:  # withdraw every other cadre's records at once
        await s.execute(
            update(Contact)
            .where(Contact.cadre_id.in_([c.id for c in cadres[::2]]))
            .values(deleted_at=NOW)
        )
    async with db.sessions() as s:
        assert len(await kept_state(s)) == 4000 and await drift(s) == []
        assert await household_drift(s) == []
