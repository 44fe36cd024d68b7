"""Validating roster rows: every problem reported with its line and column, nothing guessed."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.roster.files import RawRow
from core.names import is_mobile, is_phone, normalize_phone, split_path
from storage.household_status import HOUSEHOLD_STATUSES
from storage.roster import RosterRow

DEFAULT_CATEGORY = "贫困户"
MAX_MEMBERS = 30
# Column widths of the schema (storage/models.py).
MAX_LEN = {
    "干部姓名": 50,
    "职级": 30,
    "户主姓名": 50,
    "户编号": 50,
    "类别": 30,
    "致贫原因": 100,
}
REQUIRED = ("单位", "干部姓名", "职级", "干部手机", "户主姓名", "所在村", "人口")
YES = ("是", "党员", "y", "yes", "true", "1", "√", "✓")
NO = ("否", "非党员", "群众", "n", "no", "false", "0", "×")
TAG_SEPARATORS = re.compile(r"[、，,；;/|\s]+")
DATE_FORMS = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
EARLIEST = date(1900, 1, 1)


def parse_day(text: str) -> date | None:
    """2026-11-23, 2026/11/23, 2026.11.23, 2026年11月23日 or 20261123; None if not a date."""
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = DATE_FORMS.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RowError:
    """Line `row`, column `column`: the text `roster_check.<key>` with params."""

    row: int
    column: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checked:
    rows: list[RosterRow]
    errors: list[RowError]


class _RowChecker:
    """Checks one line; collects its errors."""

    def __init__(
        self, raw: RawRow, today: date | None = None, allowed: Sequence[str] | None = None
    ) -> None:
        self.raw = raw
        self.today = today
        self.allowed = allowed
        self.errors: list[RowError] = []

    def fail(self, column: str, key: str, **params: Any) -> None:
        self.errors.append(RowError(self.raw.row, column, key, params))

    def text(self, column: str) -> str:
        value = " ".join(self.raw.cells.get(column, "").split())
        if not value and column in REQUIRED:
            self.fail(column, "required")
        elif column in MAX_LEN and len(value) > MAX_LEN[column]:
            self.fail(column, "too_long", limit=MAX_LEN[column])
        return value

    def path(self, column: str, min_parts: int) -> str:
        raw = self.raw.cells.get(column, "")
        parts = split_path(raw)
        if not parts:
            self.fail(column, "required")
        elif any(not p for p in parts):
            self.fail(column, "path_gap", value=raw)
        elif len(parts) < min_parts:
            self.fail(column, "path_short", value=raw)
        elif any(len(p) > 100 for p in parts) or len("/".join(parts)) > 500:
            self.fail(column, "too_long", limit=100)
        return "/".join(parts)

    def phone(self, column: str, *, mobile: bool) -> str:
        raw = self.raw.cells.get(column, "")
        phone = normalize_phone(raw)
        if not phone:
            if mobile:
                self.fail(column, "required")
        elif mobile and not is_mobile(phone):
            self.fail(column, "bad_mobile", value=raw)
        elif not mobile and not is_phone(phone):
            self.fail(column, "bad_phone", value=raw)
        return phone

    def members(self) -> int:
        raw = self.raw.cells.get("人口", "").strip()
        if not raw:
            self.fail("人口", "required")
            return 0
        try:
            value = int(float(raw)) if float(raw).is_integer() else -1
        except ValueError:
            value = -1
        if not 1 <= value <= MAX_MEMBERS:
            self.fail("人口", "bad_members", value=raw, limit=MAX_MEMBERS)
        return value

    def tags(self) -> tuple[str, ...]:
        """类别: one value or several (困难学生、党员), each known when the policy lists them."""
        raw = self.raw.cells.get("类别", "")
        tags = tuple(dict.fromkeys(t for t in TAG_SEPARATORS.split(raw) if t))
        for tag in tags:
            if len(tag) > MAX_LEN["类别"]:
                self.fail("类别", "too_long", limit=MAX_LEN["类别"])
            elif self.allowed is not None and tag not in self.allowed:
                self.fail("类别", "bad_tag", value=tag, allowed="、".join(self.allowed))
        return tags

    def yes_no(self, column: str) -> bool | None:
        raw = self.raw.cells.get(column, "").strip()
        if not raw:
            return None
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        self.fail(column, "bad_yes_no", value=raw)
        return None

    def day(self, column: str) -> date | None:
        raw = self.raw.cells.get(column, "").strip()
        if not raw:
            return None
        day = parse_day(raw)
        if day is None:
            self.fail(column, "bad_date", value=raw)
        elif day < EARLIEST or (self.today is not None and day > self.today):
            self.fail(column, "date_range", value=raw)
            return None
        return day

    def party(self, tags: tuple[str, ...]) -> tuple[bool, date | None, date | None]:
        member = self.yes_no("是否党员")
        born, joined = self.day("出生日期"), self.day("入党日期")
        if joined is not None and member is False:
            self.fail("入党日期", "not_member", value=joined.isoformat())
        if joined is not None and born is not None and joined <= born:
            self.fail("入党日期", "joined_before_born", value=joined.isoformat())
        in_party = bool(member) or (member is None and (joined is not None or "党员" in tags))
        return in_party, born, joined

    def standing(self) -> tuple[str | None, date | None]:
        """户状态 and since when (the import's day when 状态日期 is left empty)."""
        raw = self.raw.cells.get("户状态", "").strip()
        since = self.day("状态日期")
        if not raw:
            if since is not None:
                self.fail("状态日期", "date_without_status", value=since.isoformat())
            return None, None
        if raw not in HOUSEHOLD_STATUSES:
            self.fail("户状态", "bad_status", value=raw, known="、".join(HOUSEHOLD_STATUSES))
            return None, None
        return raw, since or self.today

    def build(self) -> RosterRow:
        code = self.text("户编号").replace(" ", "")
        standing, since = self.standing()
        tags = self.tags()
        party_member, born, joined = self.party(tags)
        return RosterRow(
            row=self.raw.row,
            unit_path=self.path("单位", 1),
            cadre_name=self.text("干部姓名"),
            rank=self.text("职级"),
            cadre_phone=self.phone("干部手机", mobile=True),
            head_name=self.text("户主姓名"),
            household_code=code or None,
            village_path=self.path("所在村", 2),
            category=tags[0] if tags else DEFAULT_CATEGORY,
            members=self.members(),
            poverty_cause=self.text("致贫原因"),
            household_phone=self.phone("户主电话", mobile=False),
            party_member=party_member,
            birth_date=born,
            party_date=joined,
            tags=tags,
            poverty_status=standing,
            status_date=since,
        )


class _Consistency:
    """Rows that name the same cadre or household must agree with the first one."""

    def __init__(self) -> None:
        self.cadres: dict[str, RosterRow] = {}
        self.households: dict[Hashable, RosterRow] = {}
        self.pairs: dict[tuple[str, Hashable], int] = {}

    def check(self, r: RosterRow) -> list[RowError]:
        errors: list[RowError] = []
        first = self.cadres.setdefault(r.cadre_phone, r)
        for column, mine, theirs in (
            ("干部姓名", r.cadre_name, first.cadre_name),
            ("职级", r.rank, first.rank),
            ("单位", r.unit_path, first.unit_path),
        ):
            if mine != theirs:
                errors.append(RowError(r.row, column, "cadre_conflict", _was(first, theirs)))
        errors += self._household(r)
        pair = (r.cadre_phone, r.household_key)
        if pair in self.pairs:
            errors.append(
                RowError(r.row, "户主姓名", "duplicate_pair", {"first": self.pairs[pair]})
            )
        self.pairs.setdefault(pair, r.row)
        return errors

    def _household(self, r: RosterRow) -> list[RowError]:
        first = self.households.setdefault(r.household_key, r)
        if first is r:
            return []
        if r.household_code and first.village_path != r.village_path:
            return [RowError(r.row, "户编号", "code_two_villages", _was(first, first.village_path))]
        errors = []
        for column, attr in (
            ("户主姓名", "head_name"),
            ("类别", "tags"),
            ("人口", "members"),
            ("是否党员", "party_member"),
            ("出生日期", "birth_date"),
            ("入党日期", "party_date"),
            ("户状态", "poverty_status"),
            ("状态日期", "status_date"),
            ("致贫原因", "poverty_cause"),
            ("户主电话", "household_phone"),
        ):
            theirs = getattr(first, attr)
            if getattr(r, attr) != theirs:
                errors.append(RowError(r.row, column, "household_conflict", _was(first, theirs)))
        return errors


def _was(first: RosterRow, value: object) -> dict[str, Any]:
    return {"first": first.row, "value": value}


def check_rows(
    raw_rows: Sequence[RawRow],
    progress: Callable[[int], None] | None = None,
    *,
    today: date | None = None,
    allowed_tags: Sequence[str] | None = None,
) -> Checked:
    """Validate every line; rows are only usable when `errors` is empty.

    Dates after `today` are refused; with `allowed_tags` every 类别 value must be one of them.
    """
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    consistency = _Consistency()
    for n, raw in enumerate(raw_rows, start=1):
        checker = _RowChecker(raw, today, allowed_tags)
        row = checker.build()
        if checker.errors:
            errors += checker.errors
        else:
            errors += consistency.check(row)
            rows.append(row)
        if progress and n % 5000 == 0:
            progress(n)
    return Checked(rows=rows, errors=errors)
