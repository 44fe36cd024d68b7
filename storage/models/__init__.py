"""The schema. One schema for SQLite and PostgreSQL; relationships load only explicitly.

The tables themselves are Core tables (storage.tables, which imports no ORM); each class here
maps one of them (`__table__`) for the bot's code that works with objects. Each class is in
its own module and mapped only when first named: `from storage.models import Cadre` maps the
cadres table and no other. `Base`, whose metadata is the whole schema (migrations, tests),
declares and maps every table before it is returned. Foreign keys name their tables as
strings, so a table never needs another one loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.models._base import NAMING, Base, BigId, Stamp
    from storage.models.audit_log import AuditLog
    from storage.models.cadre import Cadre
    from storage.models.chat_account import ChatAccount
    from storage.models.contact import Contact
    from storage.models.contact_month import ContactMonth
    from storage.models.contact_state import ContactState
    from storage.models.conversation import Conversation
    from storage.models.deed import Deed
    from storage.models.diary_comment import DiaryComment
    from storage.models.diary_entry import DiaryEntry
    from storage.models.event import Event
    from storage.models.help_measure import HelpMeasure
    from storage.models.help_plan import HelpPlan
    from storage.models.household import Household
    from storage.models.household_state import HouseholdState
    from storage.models.invite import Invite
    from storage.models.job_run import JobRun
    from storage.models.outbox_message import OutboxMessage
    from storage.models.pairing import Pairing
    from storage.models.problem import Problem
    from storage.models.problem_note import ProblemNote
    from storage.models.processed_message import ProcessedMessage
    from storage.models.reminder_mark import ReminderMark
    from storage.models.roster_journal_entry import RosterJournalEntry
    from storage.models.scope_counts import (
        CadreMonth,
        CadreScope,
        HouseholdBranch,
        HouseholdScope,
        UnitBranch,
        UnitDay,
    )
    from storage.models.send_slot import SendSlot
    from storage.models.supervisor_group import SupervisorGroup
    from storage.models.sweep_round import SweepRound
    from storage.models.unit import Unit
    from storage.models.village_month import VillageMonth
    from storage.models.web_user import WebUser

__all__ = [
    "NAMING",
    "AuditLog",
    "Base",
    "BigId",
    "Cadre",
    "CadreMonth",
    "CadreScope",
    "ChatAccount",
    "Contact",
    "ContactMonth",
    "ContactState",
    "Conversation",
    "Deed",
    "DiaryComment",
    "DiaryEntry",
    "Event",
    "HelpMeasure",
    "HelpPlan",
    "Household",
    "HouseholdBranch",
    "HouseholdScope",
    "HouseholdState",
    "Invite",
    "JobRun",
    "OutboxMessage",
    "Pairing",
    "Problem",
    "ProblemNote",
    "ProcessedMessage",
    "ReminderMark",
    "RosterJournalEntry",
    "SendSlot",
    "Stamp",
    "SupervisorGroup",
    "SweepRound",
    "Unit",
    "UnitBranch",
    "UnitDay",
    "VillageMonth",
    "WebUser",
]

_MODULES = {
    "Unit": "unit",
    "Cadre": "cadre",
    "ChatAccount": "chat_account",
    "Household": "household",
    "Pairing": "pairing",
    "Contact": "contact",
    "ContactMonth": "contact_month",
    "ContactState": "contact_state",
    "HouseholdState": "household_state",
    "VillageMonth": "village_month",
    "UnitBranch": "scope_counts",
    "HouseholdScope": "scope_counts",
    "HouseholdBranch": "scope_counts",
    "UnitDay": "scope_counts",
    "CadreMonth": "scope_counts",
    "CadreScope": "scope_counts",
    "DiaryEntry": "diary_entry",
    "Event": "event",
    "Problem": "problem",
    "ProblemNote": "problem_note",
    "HelpPlan": "help_plan",
    "HelpMeasure": "help_measure",
    "Deed": "deed",
    "Conversation": "conversation",
    "ProcessedMessage": "processed_message",
    "Invite": "invite",
    "SupervisorGroup": "supervisor_group",
    "OutboxMessage": "outbox_message",
    "ReminderMark": "reminder_mark",
    "JobRun": "job_run",
    "AuditLog": "audit_log",
    "WebUser": "web_user",
    "DiaryComment": "diary_comment",
    "RosterJournalEntry": "roster_journal_entry",
    "SendSlot": "send_slot",
    "SweepRound": "sweep_round",
}
_SHARED = ("BigId", "NAMING", "Stamp")


def _module(name: str) -> Any:
    # __import__, not importlib.import_module: `python -X importtime` then lists each table.
    return __import__(f"storage.models.{name}", fromlist=["_"])


def load_all() -> None:
    """Map every table (the whole metadata), with every dialect's options."""
    for module in dict.fromkeys(_MODULES.values()):
        _module(module)
    from storage.tables import load_all as load_all_tables

    load_all_tables()


def __getattr__(name: str) -> Any:
    if name == "Base":
        load_all()
        module = "_base"
    elif name in _SHARED:
        module = "_base"
    else:
        found = _MODULES.get(name)
        if found is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = found
    value = getattr(_module(module), name)
    globals()[name] = value
    return value
