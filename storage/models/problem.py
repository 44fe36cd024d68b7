"""`Problem`: mapped on the Core table `problems` (storage/tables/problem.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.problem import problems


class Problem(Base):
    """A household's problem or appeal (诉求), followed until resolved and called back.

    `status` is open | resolved; `stage` the appeal's lifecycle: accepted (受理) → handling
    (办理中) → done (已办结) → followed (已回访); a 不满意 call-back reopens it (round + 1).
    """

    __tablename__ = "problems"
    __table__ = problems
    id: Mapped[int]
    household_id: Mapped[int]
    cadre_id: Mapped[int]
    contact_id: Mapped[int | None]
    description: Mapped[str]
    raised_on: Mapped[date]
    status: Mapped[str]
    resolution: Mapped[str]
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    category: Mapped[str]
    handler_unit_id: Mapped[int | None]
    due_on: Mapped[date | None]
    stage: Mapped[str]
    satisfaction: Mapped[str]
    followed_at: Mapped[datetime | None]
    round: Mapped[int]
