"""Programme policy: quotas, contact rhythm, 五必访 occasions, reminder stages.

Everything that varies between counties lives here as validated configuration with the
presets from the source reports; nothing below is hard-coded elsewhere.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.programme import (
    AppealPolicy,
    CategoryPolicy,
    EscalationPolicy,
    OccasionPolicy,
    PlanPolicy,
    ScorePolicy,
)
from core.validated import Field, Model, field_validator, model_validator

# 博白 "865321", 融水 "543", 利州 "一包三 / 一包一" (quotas by rank, from the counties' rules).
QUOTA_PRESETS: dict[str, dict[str, int]] = {
    "865321": {"厅级": 8, "处级": 6, "正科": 5, "副科": 3, "中层": 2, "一般干部": 1},
    "543": {"县处级": 5, "科级": 4, "一般干部": 3},
    "一包三": {"县级": 3, "科级": 3, "一般干部": 1},
}
QUOTA_PRESET_ALIASES = {"博白": "865321", "融水": "543", "利州": "一包三"}

HELP_TAGS = ("政策", "技术", "项目", "资金", "销路", "生活")  # 六帮
EVENT_KINDS = ("hardship", "birth", "illness", "death", "dispute")
CONTACT_KINDS = ("visit", "call", "other")
# 民意 (保康's 五联日记): 县委决策部署, 政策落实, 干部作风, 民生大事.
OPINION_TOPICS = ("decisions", "policy", "conduct", "livelihood")
# The 24 solar terms in calendar order from January; festivals and farming seasons name them.
SOLAR_TERMS = (
    "小寒", "大寒", "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至",
    "小暑", "大暑", "立秋", "处暑", "白露", "秋分", "寒露", "霜降", "立冬", "小雪", "大雪", "冬至",
)  # fmt: skip


def _known_term(term: str | None) -> str | None:
    if term is not None and term not in SOLAR_TERMS:
        raise ValueError(f"unknown solar term {term!r} (节气, e.g. 清明, 芒种, 秋分)")
    return term


class Festival(Model):
    """A 传统佳节必访 occasion: a lunar date, or a solar term such as 清明."""

    name: str
    lunar_month: int | None = Field(default=None, ge=1, le=12)
    lunar_day: int | None = Field(default=None, ge=1, le=30)
    solar_term: str | None = None
    last_day_of_year: bool = False  # 除夕: the last day of the 12th month (29th or 30th)
    window_before: int = Field(default=7, ge=0, le=60)
    window_after: int = Field(default=7, ge=0, le=60)

    @field_validator("solar_term")
    @classmethod
    def _term(cls, v: str | None) -> str | None:
        return _known_term(v)

    @model_validator(mode="after")
    def _one_anchor(self) -> Festival:
        anchors = [
            self.lunar_month is not None and self.lunar_day is not None,
            self.solar_term is not None,
            self.last_day_of_year,
        ]
        if sum(anchors) != 1:
            raise ValueError(f"节日 {self.name}: give exactly one of lunar date, solar term, 除夕")
        return self


class FarmingSeason(Model):
    """A 生产忙季必访 season between two solar terms (inclusive)."""

    name: str
    start_term: str
    end_term: str

    @field_validator("start_term", "end_term")
    @classmethod
    def _terms(cls, v: str) -> str:
        return _known_term(v) or v


DEFAULT_FESTIVALS = [
    Festival(name="除夕·春节", last_day_of_year=True, window_before=7, window_after=15),
    Festival(name="元宵", lunar_month=1, lunar_day=15, window_before=3, window_after=3),
    Festival(name="清明", solar_term="清明", window_before=7, window_after=7),
    Festival(name="端午", lunar_month=5, lunar_day=5, window_before=7, window_after=7),
    Festival(name="中秋", lunar_month=8, lunar_day=15, window_before=7, window_after=7),
    Festival(name="重阳", lunar_month=9, lunar_day=9, window_before=7, window_after=7),
]

DEFAULT_FARMING_SEASONS = [
    FarmingSeason(name="春耕", start_term="清明", end_term="谷雨"),
    FarmingSeason(name="夏收", start_term="芒种", end_term="夏至"),
    FarmingSeason(name="秋收", start_term="秋分", end_term="寒露"),
]


class ReminderStages(Model):
    """When each duty is reminded (day numbers are calendar days in the configured zone)."""

    monthly_contact_days: list[int] = Field(default=[20, 27])
    # The quarter's last month starts (day 1), then this many days before the quarter ends.
    quarterly_visit_last_month_start: bool = True
    quarterly_visit_days_before_end: int = Field(default=10, ge=0, le=60)
    festival_days_before: list[int] = Field(default=[7])
    farming_days_before: list[int] = Field(default=[3])
    event_days_after: list[int] = Field(default=[3, 6])

    @field_validator("monthly_contact_days")
    @classmethod
    def _valid_days(cls, v: list[int]) -> list[int]:
        if any(d < 1 or d > 28 for d in v):
            raise ValueError("monthly_contact_days must be between 1 and 28")
        return sorted(set(v))


class EnrolLimits(Model):
    """How many wrong enrolment codes are tolerated before a wait (against guessing)."""

    free_attempts: int = Field(default=5, ge=1, le=100)  # per account, in `lookback_hours`
    first_wait_minutes: int = Field(default=1, ge=1, le=60)  # doubles with each wrong code
    max_wait_minutes: int = Field(default=60, ge=1, le=24 * 60)
    lookback_hours: int = Field(default=24, ge=1, le=24 * 7)
    # Wrong codes from all accounts together, per kind of code (cadre / group).
    space_failures: int = Field(default=100, ge=10, le=100_000)
    space_window_minutes: int = Field(default=10, ge=1, le=24 * 60)


class Policy(Model):
    """A county's programme rules; defaults are 博白's."""

    quota_preset: str = "865321"
    quotas: dict[str, int] | None = None  # overrides the preset when given
    default_quota: int = Field(default=1, ge=0)
    contact_every_months: int = Field(default=1, ge=1, le=12)
    visit_every_months: int = Field(default=3, ge=1, le=12)
    festivals: list[Festival] = Field(default_factory=lambda: list(DEFAULT_FESTIVALS))
    farming_seasons: list[FarmingSeason] = Field(
        default_factory=lambda: list(DEFAULT_FARMING_SEASONS)
    )
    event_visit_days: int = Field(default=7, ge=1, le=90)
    backdate_days: int = Field(default=7, ge=0, le=90)
    undo_minutes: int = Field(default=30, ge=0, le=24 * 60)
    draft_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    stages: ReminderStages = Field(default_factory=ReminderStages)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    digest_behind_cap: int = Field(default=10, ge=1, le=100)
    enrolment: EnrolLimits = Field(default_factory=EnrolLimits)
    appeals: AppealPolicy = Field(default_factory=AppealPolicy)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    score: ScorePolicy = Field(default_factory=lambda: ScorePolicy.model_validate({}))
    plans: PlanPolicy = Field(default_factory=PlanPolicy)
    occasions: OccasionPolicy = Field(default_factory=OccasionPolicy)
    categories: CategoryPolicy = Field(default_factory=CategoryPolicy)

    @field_validator("quota_preset")
    @classmethod
    def _known_preset(cls, v: str) -> str:
        v = QUOTA_PRESET_ALIASES.get(v, v)
        if v not in QUOTA_PRESETS:
            known = ", ".join([*QUOTA_PRESETS, *QUOTA_PRESET_ALIASES])
            raise ValueError(f"unknown quota preset {v!r} (known: {known})")
        return v

    def quota_for(self, rank: str) -> int:
        table = self.quotas if self.quotas is not None else QUOTA_PRESETS[self.quota_preset]
        return table.get(rank, self.default_quota)

    def in_quiet_hours(self, at: time) -> bool:
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= at < self.quiet_end
        return at >= self.quiet_start or at < self.quiet_end


def duty_start(day: date, months: int) -> date:
    """First day of the `months`-long duty block containing `day` (blocks start in January)."""
    return date(day.year, ((day.month - 1) // months) * months + 1, 1)


def quiet_until(at: datetime, policy: Policy) -> datetime | None:
    """The end of the quiet hours `at` falls in (aware, at's zone), or None outside them."""
    if not policy.in_quiet_hours(at.time()):
        return None
    end = datetime.combine(at.date(), policy.quiet_end, tzinfo=at.tzinfo)
    return end if end > at else end + timedelta(days=1)
