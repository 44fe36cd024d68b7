"""Programme rules beyond contacts: appeals, escalation, 考核 scores, help plans, occasions.

Validated configuration with the presets of the source reports (docs/programme.md names
where each rule comes from). `Policy` in core.policy holds one of each.
"""

from __future__ import annotations

from typing import Any

from core.validated import Field, Model, field_validator, model_validator

# 保康 follows every appeal until solved (诉求跟踪督办); days to solve one, per category.
DEFAULT_APPEAL_DAYS: dict[str, int] = {
    "住房": 30,
    "医疗": 15,
    "教育": 30,
    "就业": 30,
    "产业": 60,
    "低保/救助": 15,
    "基础设施": 90,
    "矛盾纠纷": 15,
    "其他": 30,
}
# How a household answers the call-back (回访) after an appeal is settled.
SATISFACTION = ("满意", "基本满意", "不满意")
REOPENS = "不满意"

# Help kinds tagged on plan measures: 博白's 六帮, 利州's 四包.
HELP_KIND_PRESETS: dict[str, tuple[str, ...]] = {
    "六帮": ("政策上帮", "技术上帮", "项目上帮", "资金上帮", "销路上帮", "生活上帮"),
    "四包": ("包规划制定", "包信息传递", "包思想解放", "包感情联络"),
}
HELP_KIND_ALIASES = {"博白": "六帮", "利州": "四包"}

# 保康's 五联 类别 tags on households (the roster's 类别 column may list several).
WULIAN_TAGS = ("困难学生", "孤寡老人", "低保户", "诉求群众", "党员", "产业大户", "龙头企业")
# 保康's quota: each leader takes one household of each of five categories. 2012: 贫困户,
# 困难学生, 孤寡老人, 城市低保户, 诉求群众; later (2016 report): 贫困群众, 农村党员, 产业大户,
# 龙头企业, 诉求群众.
CATEGORY_QUOTA_PRESETS: dict[str, tuple[str, ...]] = {
    "保康": ("贫困户", "党员", "产业大户", "龙头企业", "诉求群众"),
    "保康2012": ("贫困户", "困难学生", "孤寡老人", "低保户", "诉求群众"),
}
# 县"四大家"领导 and the heads of county departments and townships (正科).
LEADER_RANKS = ["县级", "县处级", "厅级", "处级", "正科"]


class AppealPolicy(Model):
    """Appeal categories with their deadlines in days, and the units offered as handlers."""

    categories: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_APPEAL_DAYS))
    # Unit names or paths offered as buttons when picking who handles an appeal (e.g. the
    # county's departments); the cadre's own unit and the household's township come first.
    handling_units: list[str] = Field(default_factory=list)
    # The latest a cadre may set a deadline, in days from today.
    max_days: int = Field(default=365, ge=1, le=3650)

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise ValueError("give at least one appeal category, e.g. 其他 = 30")
        for name, days in v.items():
            if not name.strip() or len(name) > 20:
                raise ValueError(f"appeal category {name!r}: 1 to 20 characters")
            if not 1 <= days <= 365:
                raise ValueError(f"appeal category {name}: days must be 1..365, not {days}")
        return v

    def default_days(self) -> int:
        """The deadline of an appeal raised without a category (on a visit report)."""
        return self.categories.get("其他", max(self.categories.values()))


class EscalationPolicy(Model):
    """Duties overdue past their grace are named once in the supervisors' group."""

    enabled: bool = True
    contact_grace_days: int = Field(default=0, ge=0, le=60)  # 0: on the 1st of next month
    visit_grace_days: int = Field(default=0, ge=0, le=60)
    event_grace_days: int = Field(default=0, ge=0, le=60)
    appeal_grace_days: int = Field(default=0, ge=0, le=60)
    lookback_days: int = Field(default=40, ge=1, le=366)  # older lapses are not raised
    max_lines: int = Field(default=30, ge=1, le=200)


# 考核 presets: 博白 weighs the contact rhythm (monthly call, quarterly visit, 五必访);
# 利州 counts contacts too but adds the households' own rating (群众测评) and 办实事
# (at least two a year per household).
SCORE_PRESETS: dict[str, dict[str, Any]] = {
    "博白": {
        "weights": {
            "contact": 30,
            "visit": 25,
            "event": 15,
            "diary": 10,
            "appeal": 10,
            "satisfaction": 5,
            "deeds": 5,
        },
        "diaries_per_month": 2,
        "deeds_per_household_year": 1,
        "unanswered_penalty": 1.0,
    },
    "利州": {
        "weights": {
            "contact": 20,
            "visit": 20,
            "event": 10,
            "diary": 5,
            "appeal": 15,
            "satisfaction": 15,
            "deeds": 15,
        },
        "diaries_per_month": 1,
        "deeds_per_household_year": 2,
        "unanswered_penalty": 2.0,
    },
}
INDICATORS = ("contact", "visit", "event", "diary", "appeal", "satisfaction", "deeds")
# What each satisfaction answer is worth towards the satisfaction indicator.
SATISFACTION_VALUE = {"满意": 1.0, "基本满意": 0.6, "不满意": 0.0}


class ScorePolicy(Model):
    """A cadre's score: weighted indicators (each 0..1) scaled to 100, minus penalties.

    `preset` fills every field the configuration does not give.
    """

    preset: str = "博白"
    weights: dict[str, float]
    diaries_per_month: int = Field(ge=0, le=31)
    deeds_per_household_year: int = Field(ge=0, le=52)
    unanswered_penalty: float = Field(ge=0, le=100)  # points per reminder left unanswered
    grades: dict[str, float] = Field(
        default_factory=lambda: {"优秀": 90.0, "良好": 80.0, "合格": 60.0}
    )

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        data = dict(data or {})
        name = data.get("preset", "博白")
        if name not in SCORE_PRESETS:
            raise ValueError(f"unknown score preset {name!r} (known: {', '.join(SCORE_PRESETS)})")
        merged = {**SCORE_PRESETS[name], **data}
        merged["weights"] = {**SCORE_PRESETS[name]["weights"], **data.get("weights", {})}
        return merged

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(INDICATORS)
        if unknown:
            raise ValueError(
                f"unknown indicator {sorted(unknown)[0]!r} (known: {', '.join(INDICATORS)})"
            )
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 and not all 0")
        return v

    def grade(self, score: float) -> str:
        for name, floor in sorted(self.grades.items(), key=lambda kv: -kv[1]):
            if score >= floor:
                return name
        return "不合格"


class PlanPolicy(Model):
    """Help plans (帮扶计划 / 连心卡): the help kinds a measure is tagged with."""

    help_kinds_preset: str = "六帮"
    help_kinds: list[str] | None = None  # a county's own list; overrides the preset

    @field_validator("help_kinds_preset")
    @classmethod
    def _preset(cls, v: str) -> str:
        v = HELP_KIND_ALIASES.get(v, v)
        if v not in HELP_KIND_PRESETS:
            known = ", ".join([*HELP_KIND_PRESETS, *HELP_KIND_ALIASES])
            raise ValueError(f"unknown help kinds preset {v!r} (known: {known})")
        return v

    @field_validator("help_kinds")
    @classmethod
    def _kinds(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any(not k.strip() or len(k) > 20 for k in v)):
            raise ValueError("help_kinds: a non-empty list of names of 1 to 20 characters")
        return v

    def kinds(self) -> tuple[str, ...]:
        return (
            tuple(self.help_kinds) if self.help_kinds else HELP_KIND_PRESETS[self.help_kinds_preset]
        )


class CategoryPolicy(Model):
    """Household 类别 (a list per household) and 保康's five-category quota for leaders."""

    allowed: list[str] | None = None  # 类别 values the roster may use; None: any
    quota_preset: str | None = None  # 保康 / 保康2012; None: no category quota
    quota: list[str] | None = None  # a county's own categories; overrides the preset
    leader_ranks: list[str] = Field(default_factory=lambda: list(LEADER_RANKS))

    @field_validator("quota_preset")
    @classmethod
    def _preset(cls, v: str | None) -> str | None:
        if v is not None and v not in CATEGORY_QUOTA_PRESETS:
            raise ValueError(
                f"unknown category quota preset {v!r} (known: {', '.join(CATEGORY_QUOTA_PRESETS)})"
            )
        return v

    @field_validator("allowed", "quota")
    @classmethod
    def _names(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any(not k.strip() or len(k) > 30 for k in v)):
            raise ValueError("a non-empty list of names of 1 to 30 characters")
        if v is not None and len(set(v)) != len(v):
            raise ValueError("a name is listed twice")
        return v

    @model_validator(mode="after")
    def _quota_allowed(self) -> CategoryPolicy:
        if self.allowed is not None:
            unknown = [c for c in self.wanted() if c not in self.allowed]
            if unknown:
                raise ValueError(f"quota category {unknown[0]!r} is not in allowed")
        return self

    def wanted(self) -> tuple[str, ...]:
        """The categories each leader must take one household of (empty: no quota)."""
        if self.quota is not None:
            return tuple(self.quota)
        return CATEGORY_QUOTA_PRESETS[self.quota_preset] if self.quota_preset else ()


class OccasionPolicy(Model):
    """保康's personal occasions: visits on a party member's birthday and 入党纪念日."""

    birthday: bool = False
    birthday_party_members_only: bool = True
    party_anniversary: bool = False
    days_before: list[int] = Field(default=[7])  # reminded this many days ahead
    window_after: int = Field(default=7, ge=0, le=60)  # a visit this late still counts

    @field_validator("days_before")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 0 or d > 60 for d in v):
            raise ValueError("days_before must be between 0 and 60")
        return sorted(set(v))
