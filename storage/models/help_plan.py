"""`HelpPlan`: mapped on the Core table `help_plans` (storage/tables/help_plan.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.help_plan import help_plans


class HelpPlan(Base):
    """A household's help plan (帮扶计划 / 连心卡): income target and 主导产业."""

    __tablename__ = "help_plans"
    __table__ = help_plans
    household_id: Mapped[int]
    income_target: Mapped[float | None]
    main_industry: Mapped[str]
    updated_at: Mapped[datetime]
