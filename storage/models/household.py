"""The `Household` table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId

HOUSEHOLD_EXITED = "exited"  # `status` of households that get no more duties


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (Index("ix_households_village_head", "village_id", "head_name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(50), unique=True)  # 户编号
    head_name: Mapped[str] = mapped_column(String(50))
    village_id: Mapped[int] = mapped_column(BigId, ForeignKey("units.id"))
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
