"""The one text splitter: each destination's limit and unit, nothing lost, lines kept whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.textsplit import TEXT_LIMITS, TextLimit, measure, split_for, split_text
from core.types import Channel

lines = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=900),
    max_size=12,
)


@settings(deadline=None)  # a busy machine must not fail a correct run
@given(lines, st.sampled_from([16, 2048, 4096]), st.sampled_from(["chars", "utf16", "utf8"]))
def test_split_keeps_every_character_within_the_limit(parts, size, unit):
    text = "\n".join(parts)
    pieces = split_text(text, TextLimit(size, unit))
    assert all(measure(p, unit) <= size for p in pieces)
    # Nothing is lost: pieces rejoin to the text (line breaks at piece borders or inside).
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_split_prefers_line_breaks():
    text = "\n".join(["甲" * 600, "乙" * 600, "丙" * 600])  # 1,800 bytes a line
    assert split_for(Channel.WECOM, text) == ["甲" * 600, "乙" * 600, "丙" * 600]


def test_telegram_long_text_is_cut_only_at_line_breaks():
    text = "\n".join(f"第{i}户：走访记录，" + "情况良好" * 30 for i in range(200))
    pieces = split_for(Channel.TELEGRAM, text)
    assert len(pieces) > 1
    assert all(measure(p, "utf16") <= 4096 for p in pieces)
    assert "\n".join(pieces) == text


def test_telegram_counts_an_emoji_as_two_units():
    text = "😀" * 5000  # 10,000 UTF-16 units on one line
    pieces = split_for(Channel.TELEGRAM, text)
    assert [measure(p, "utf16") for p in pieces] == [4096, 4096, 1808]
    assert "".join(pieces) == text
    assert split_for(Channel.TELEGRAM, "短") == ["短"]


@pytest.mark.parametrize("unit", ["chars", "utf8"])
def test_a_digest_sized_text_respects_the_limit_and_keeps_the_text(unit):
    text = "\n".join(f"第{i}村 联系率 {i % 100}%（{i}/{i + 3}）" for i in range(400))
    text += "\n" + "长" * 1000  # one line longer than the limit
    parts = split_text(text, TextLimit(500, unit))
    assert len(parts) > 1 and all(measure(p, unit) <= 500 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_every_destination_has_a_limit():
    assert set(TEXT_LIMITS) == set(Channel)
    assert TEXT_LIMITS[Channel.WECOM_ROBOT] == TextLimit(4096, "utf8")
