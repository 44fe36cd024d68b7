"""The `households` table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from storage.tables._meta import BigId, Stamp, metadata

HOUSEHOLD_EXITED = "exited"  # `status` of households that get no more duties

households = Table(
    "households",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code", String(50), unique=True),  # 户编号
    Column("head_name", String(50), nullable=False),
    Column("village_id", BigId, ForeignKey("units.id"), nullable=False),
    Column("category", String(30), default="贫困户", nullable=False),
    Column("members", Integer, default=1, nullable=False),
    Column("poverty_cause", String(100), default="", nullable=False),
    Column("phone", String(30), default="", nullable=False),
    Column("status", String(20), default="active", nullable=False),
    Column("created_at", Stamp, nullable=False),
    # Optional roster columns for 保康's 五联 and its party-member occasions.
    Column("party_member", Boolean, default=False, nullable=False),
    Column("birth_date", Date),
    Column("party_date", Date),  # 入党日期
    Column("tags", JSON, default=list, nullable=False),  # 类别: 困难学生, 党员, ...
    # 脱贫 / 监测户 / 已消除风险 / 退出 and since when; 退出 also makes `status` exited.
    Column("poverty_status", String(20)),
    Column("status_date", Date),
    Index("ix_households_village_head", "village_id", "head_name"),
)
