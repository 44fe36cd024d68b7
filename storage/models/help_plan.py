"""The `HelpPlan` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class HelpPlan(Base):
    """A household's help plan (帮扶计划 / 连心卡): income target and 主导产业."""

    __tablename__ = "help_plans"
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), primary_key=True)
    income_target: Mapped[float | None] = mapped_column(Float)  # yuan per year
    main_industry: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime]
