"""The schema as SQLAlchemy Core tables, one module a table, each declared when first named.

`from storage.tables import cadres` declares the cadres table and no other, and imports no
ORM: the admin commands and the storage functions they share with the bot build their
statements on these tables. The mapped classes of storage.models map the same tables
(`__table__`), for the bot's code that works with objects; `load_all()` declares every
table (the whole metadata: migrations, tests).

A module is named after its table, except where that would be the table's own name
(`audit_log_table` holds `audit_log`): importing a submodule sets the package's attribute of
that name to the module, which would then shadow the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.tables._meta import NAMING, BigId, Stamp, metadata

if TYPE_CHECKING:
    from sqlalchemy import Table

    from storage.tables.audit_log_table import audit_log
    from storage.tables.cadre import cadres
    from storage.tables.chat_account import chat_accounts
    from storage.tables.contact import contacts
    from storage.tables.contact_month import contact_months
    from storage.tables.contact_state_table import contact_state
    from storage.tables.conversation import conversations
    from storage.tables.deed import deeds
    from storage.tables.diary_comment import diary_comments
    from storage.tables.diary_entry import diary_entries
    from storage.tables.event import events
    from storage.tables.help_measure import help_measures
    from storage.tables.help_plan import help_plans
    from storage.tables.household import households
    from storage.tables.household_state_table import household_state
    from storage.tables.invite import invites
    from storage.tables.job_run import job_runs
    from storage.tables.outbox_message import outbox
    from storage.tables.pairing import pairings
    from storage.tables.problem import problems
    from storage.tables.problem_note import problem_notes
    from storage.tables.processed_message import processed_messages
    from storage.tables.reminder_mark import reminder_marks
    from storage.tables.roster_journal_entry import roster_journal
    from storage.tables.scope_counts import (
        cadre_months,
        cadre_scope,
        household_branches,
        household_scope,
        unit_branches,
        unit_days,
    )
    from storage.tables.send_slot import send_slots
    from storage.tables.supervisor_group import supervisor_groups
    from storage.tables.sweep_round import sweep_rounds
    from storage.tables.unit import units
    from storage.tables.village_month import village_months
    from storage.tables.web_user import web_users

__all__ = [
    "NAMING",
    "BigId",
    "Stamp",
    "audit_log",
    "cadre_months",
    "cadre_scope",
    "cadres",
    "chat_accounts",
    "contact_months",
    "contact_state",
    "contacts",
    "conversations",
    "deeds",
    "diary_comments",
    "diary_entries",
    "events",
    "help_measures",
    "help_plans",
    "household_branches",
    "household_scope",
    "household_state",
    "households",
    "invites",
    "job_runs",
    "load_all",
    "metadata",
    "outbox",
    "pairings",
    "problem_notes",
    "problems",
    "processed_messages",
    "reminder_marks",
    "roster_journal",
    "send_slots",
    "supervisor_groups",
    "sweep_rounds",
    "unit_branches",
    "unit_days",
    "units",
    "village_months",
    "web_users",
]

_MODULES = {
    "audit_log": "audit_log_table",
    "cadres": "cadre",
    "chat_accounts": "chat_account",
    "contacts": "contact",
    "contact_months": "contact_month",
    "contact_state": "contact_state_table",
    "conversations": "conversation",
    "deeds": "deed",
    "diary_comments": "diary_comment",
    "diary_entries": "diary_entry",
    "events": "event",
    "help_measures": "help_measure",
    "help_plans": "help_plan",
    "households": "household",
    "household_state": "household_state_table",
    "invites": "invite",
    "job_runs": "job_run",
    "outbox": "outbox_message",
    "pairings": "pairing",
    "problems": "problem",
    "problem_notes": "problem_note",
    "processed_messages": "processed_message",
    "reminder_marks": "reminder_mark",
    "roster_journal": "roster_journal_entry",
    "unit_branches": "scope_counts",
    "household_scope": "scope_counts",
    "household_branches": "scope_counts",
    "cadre_months": "scope_counts",
    "cadre_scope": "scope_counts",
    "unit_days": "scope_counts",
    "send_slots": "send_slot",
    "supervisor_groups": "supervisor_group",
    "sweep_rounds": "sweep_round",
    "units": "unit",
    "village_months": "village_month",
    "web_users": "web_user",
}


def _module(name: str) -> Any:
    # __import__, not importlib.import_module: `python -X importtime` then lists each table.
    return __import__(f"storage.tables.{name}", fromlist=["_"])


def load_all() -> None:
    """Declare every table (the whole metadata), with every dialect's options."""
    for module in dict.fromkeys(_MODULES.values()):
        _module(module)
    _module("pairing").whole_schema()


def __getattr__(name: str) -> Table:
    found = _MODULES.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: Table = getattr(_module(found), name)
    globals()[name] = value
    return value
