"""Button data: packed and parsed in one place, within every platform's limit."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.buttons import (
    KINDS,
    MAX_BYTES,
    ButtonDataError,
    Choice,
    Confirm,
    DaysBack,
    Done,
    Edit,
    Household,
    Menu,
    NoHousehold,
    Page,
    Problem,
    ReportFor,
    Toggle,
    parse,
)

ids = st.integers(min_value=0, max_value=10**18 - 1)
# Button data travels as UTF-8 (Telegram callback_data): lone surrogates cannot be sent.
words = st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=6)


@settings(deadline=None)  # a busy machine must not fail a correct run
@given(ids)
def test_numbered_kinds_round_trip(n: int) -> None:
    for kind in (ReportFor, Household, Page, DaysBack, Problem):
        data = kind(n).pack()
        assert kind.unpack(data) == kind(n)
        assert parse(data) == kind(n)


@settings(deadline=None)  # a busy machine must not fail a correct run
@given(words)
def test_worded_kinds_round_trip(word: str) -> None:
    for kind in (Menu, Choice, Edit, Confirm):
        assert parse(kind(word).pack()) == kind(word)
    toggle = Toggle(word).pack()
    assert parse(toggle) == (Done() if word == "done" else Toggle(word))


def test_the_wire_format_is_what_buttons_already_sent_carry() -> None:
    # Reminders waiting in the outbox and keyboards in people's chats hold these strings.
    assert Menu("report").pack() == "m:report"
    assert ReportFor(12).pack() == "rep:h:12"
    assert (Household(5).pack(), NoHousehold().pack(), Page(2).pack()) == ("h:5", "h:none", "pg:2")
    assert (DaysBack(1).pack(), Choice("call").pack(), Toggle("政策").pack()) == (
        "d:1",
        "c:call",
        "t:政策",
    )
    assert (Done().pack(), Edit("summary").pack(), Confirm("a1b2").pack()) == (
        "t:done",
        "e:summary",
        "ok:a1b2",
    )
    assert Problem(7).pack() == "p:7"


def test_a_payload_over_telegrams_64_bytes_fails_when_it_is_packed() -> None:
    assert MAX_BYTES == 64
    Edit("字" * 19).pack()  # 2 + 57 bytes: fits
    with pytest.raises(ButtonDataError, match="64 bytes"):
        Edit("字" * 21).pack()


@pytest.mark.parametrize("data", ["h:abc", "h:²", "h:-3", "h: 5", "h:" + "9" * 19, "pg:", "d:1.5"])
def test_stale_or_forged_numbers_parse_as_minus_one(data: str) -> None:
    found = parse(data)
    assert found is not None and getattr(found, fields(found)[0].name) == -1


@pytest.mark.parametrize("data", ["", "x", "skip", "resume", "zz:1", "m", "report"])
def test_bare_words_and_unknown_data_are_no_payload(data: str) -> None:
    assert parse(data) is None


def test_every_kind_has_its_own_prefix() -> None:
    prefixes = [kind.prefix for kind in KINDS]
    assert len(prefixes) == len(set(prefixes))
