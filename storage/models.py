"""The schema. One schema for SQLite and PostgreSQL; relationships load only explicitly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations match on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite so autoincrement works there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Stamp(TypeDecorator[datetime]):
    """An aware timestamp on both databases: stored in UTC, read back aware.

    SQLite has no time zone type; storing UTC keeps string comparison correct there.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: Stamp,
    }


class Unit(Base):
    """County → township → village, and departments; `path` is "博白县/顿谷镇/旧门村"."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500), unique=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)


class Cadre(Base):
    __tablename__ = "cadres"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    rank: Mapped[str] = mapped_column(String(30), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phone: Mapped[str] = mapped_column(String(30), unique=True)
    role: Mapped[str] = mapped_column(String(30), default="")
    leave_until: Mapped[date | None] = mapped_column(Date)  # on leave through this day
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ChatAccount(Base):
    """A chat identity bound to a cadre: (channel, account_id) → cadre, answered at chat_id."""

    __tablename__ = "chat_accounts"
    __table_args__ = (UniqueConstraint("channel", "account_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    language: Mapped[str] = mapped_column(String(10), default="zh")
    bound_at: Mapped[datetime]
    blocked_at: Mapped[datetime | None]  # the account blocked the bot; set by the dispatcher


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (Index("ix_households_village_head", "village_id", "head_name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(50), unique=True)  # 户编号
    head_name: Mapped[str] = mapped_column(String(50))
    village_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    category: Mapped[str] = mapped_column(String(30), default="贫困户")
    members: Mapped[int] = mapped_column(Integer, default=1)
    poverty_cause: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime]
    # Optional roster columns for 保康's 五联 and its party-member occasions.
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    birth_date: Mapped[date | None] = mapped_column(Date)
    party_date: Mapped[date | None] = mapped_column(Date)  # 入党日期
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 类别: 困难学生, 党员, ...
    # 脱贫 / 监测户 / 已消除风险 / 退出 and since when; 退出 also makes `status` exited.
    poverty_status: Mapped[str | None] = mapped_column(String(20))
    status_date: Mapped[date | None] = mapped_column(Date)


class Pairing(Base):
    __tablename__ = "pairings"
    __table_args__ = (
        UniqueConstraint("cadre_id", "household_id"),
        Index("ix_pairings_household_active", "household_id", "active"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why it ended (transfer, roster replaced, household exited): the history stays.
    end_reason: Mapped[str] = mapped_column(String(100), default="", server_default="")


class Contact(Base):
    """A call or a visit: when it happened (occurred_on) and when it was reported."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_household_day", "household_id", "occurred_on"),
        Index("ix_contacts_cadre_day", "cadre_id", "occurred_on"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    kind: Mapped[str] = mapped_column(String(10))  # visit | call | other
    occurred_on: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime]
    help_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 六帮
    summary: Mapped[str] = mapped_column(Text, default="")
    problems_raised: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    photo_refs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source_channel: Mapped[str] = mapped_column(String(20), default="")
    source_message_id: Mapped[str] = mapped_column(String(100), default="")
    # Set when an administrator entered it on the cadre's behalf ("cli:<user>"); else empty.
    entered_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    deleted_at: Mapped[datetime | None]  # undone by the cadre


class ContactMonth(Base):
    """Whether a household had a call or visit in a month: `n` live duty contacts.

    Kept by database triggers on `contacts` (and on a household's move to another village),
    created by the migration, so every writer keeps it right; the console's 12-month trend
    counts these rows instead of scanning a year of contacts.
    """

    __tablename__ = "contact_months"
    __table_args__ = (Index("ix_contact_months_village_month", "village_id", "month", "n"),)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    village_id: Mapped[int] = mapped_column(BigId)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ContactState(Base):
    """Kept state of one (cadre, household): the last live call, visit and duty contact.

    Kept by database triggers on `contacts` (created by the migration), in the transaction of
    every write (report, undo, correction, back-dated entry, deletion), so the reminder sweep
    reads it instead of a year of contacts. A pairing's liveness (transfer, end) is read from
    `pairings`, so those writes need no state. `bangfu doctor` recomputes it and reports drift.
    """

    __tablename__ = "contact_state"
    cadre_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_call_on: Mapped[date | None] = mapped_column(Date)
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    last_contact_on: Mapped[date | None] = mapped_column(Date)  # call or visit


class DiaryEntry(Base):
    """民情日记: 所访所做 / 所见所闻 / 所思所想, with 民意 views."""

    __tablename__ = "diary_entries"
    __table_args__ = (
        Index("ix_diary_cadre_day", "cadre_id", "written_on"),
        Index("ix_diary_day_id", "written_on", "id"),  # the reader: newest first, keyset pages
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    written_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    done: Mapped[str] = mapped_column(Text, default="")  # 所访所做
    seen: Mapped[str] = mapped_column(Text, default="")  # 所见所闻
    thoughts: Mapped[str] = mapped_column(Text, default="")  # 所思所想
    opinion_topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    opinion: Mapped[str] = mapped_column(Text, default="")
    deleted_at: Mapped[datetime | None]


class Event(Base):
    """有了困难 / 生老病死 / 出现纠纷: creates a must-visit duty due on visit_due_on."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_household_day", "household_id", "occurred_on"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    visit_due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Problem(Base):
    """A household's problem or appeal (诉求), followed until resolved and called back.

    `status` is open | resolved; `stage` the appeal's lifecycle: accepted (受理) → handling
    (办理中) → done (已办结) → followed (已回访); a 不满意 call-back reopens it (round + 1).
    """

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_cadre_status", "cadre_id", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    description: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    category: Mapped[str] = mapped_column(String(20), default="其他")
    handler_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(12), default="accepted")
    satisfaction: Mapped[str] = mapped_column(String(10), default="")
    followed_at: Mapped[datetime | None]
    round: Mapped[int] = mapped_column(Integer, default=0)  # times reopened


class ProblemNote(Base):
    """One step in an appeal's history: progress noted, settled, called back, reopened."""

    __tablename__ = "problem_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    kind: Mapped[str] = mapped_column(String(12))  # progress | done | followup | reopen
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class HelpPlan(Base):
    """A household's help plan (帮扶计划 / 连心卡): income target and 主导产业."""

    __tablename__ = "help_plans"
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    income_target: Mapped[float | None] = mapped_column(Float)  # yuan per year
    main_industry: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime]


class HelpMeasure(Base):
    """A measure in a household's plan, tagged with help kinds, with its latest progress."""

    __tablename__ = "help_measures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Deed(Base):
    """办实事: a practical thing done for a household, when, and its cost or value."""

    __tablename__ = "deeds"
    __table_args__ = (Index("ix_deeds_cadre_day", "cadre_id", "done_on"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    what: Mapped[str] = mapped_column(Text)
    done_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)  # yuan
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Conversation(Base):
    """Where a chat account is in a flow, and its draft. Keyed by (channel, account)."""

    __tablename__ = "conversations"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(30), default="")
    step: Mapped[str] = mapped_column(String(30), default="")
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # The last record saved, for undo/correct within the policy's window.
    last_record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProcessedMessage(Base):
    """Inbound ids already handled; inserted in the same transaction as their effect."""

    __tablename__ = "processed_messages"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class Invite(Base):
    """A one-time enrolment code, stored as a SHA-256 hash."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # cadre | group
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str] = mapped_column(String(150), default="")


class SupervisorGroup(Base):
    """A chat that receives a unit's digests: a Telegram group or a WeCom group robot.

    For a WeCom robot `chat_id` is the webhook key — a secret: never log it.
    """

    __tablename__ = "supervisor_groups"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # telegram | wecom_robot
    chat_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    bound_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxMessage(Base):
    """A message waiting to be sent; `dedupe_key` makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # The dispatchers' shared send history reads the last minute of sends by this.
        Index("ix_outbox_sent_at", "sent_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # reminder | digest | review | reply
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("supervisor_groups.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # A reminder: the earliest due date of its duties. Among due rows the most overdue are
    # claimed first; rows without one (digests, notices) before any reminder.
    due_on: Mapped[date | None] = mapped_column(Date)


class ReminderMark(Base):
    """A duty reminded at one stage (key like "contact:{pairing}:{day}"): reminded once."""

    __tablename__ = "reminder_marks"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    stage_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime]


class JobRun(Base):
    """A scheduled run claimed in the database, so a rerun or a second process skips it."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(50), primary_key=True)
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditLog(Base):
    """Who changed what: every write a person causes leaves a row here."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "cadre:12", "cli", "telegram:5551"
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(30), default="")
    entity_id: Mapped[str] = mapped_column(String(50), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebUser(Base):
    """An office account of the web console; sees only its unit's subtree."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | supervisor | viewer
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class DiaryComment(Base):
    """A supervisor's comment on a diary entry, also sent to the cadre's chat."""

    __tablename__ = "diary_comments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    diary_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class RosterJournalEntry(Base):
    """One committed batch of a real roster import: what it created (ids) or the old values
    of what it changed. Written in the batch's own transaction and removed in the import's
    last one, so rows here after a crash are exactly what an unfinished import must take back.
    """

    __tablename__ = "roster_journal"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(30))  # a table name: units, cadres, ...
    kind: Mapped[str] = mapped_column(String(10))  # created | old
    payload: Mapped[list[Any]] = mapped_column(JSON)
