"""The labelled corpus read through `bangfu parse` (the chat's own reading path), end to end:
a roster in a database, the CLI's JSON line per message, accuracy per field."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from core.understand.corpus import load, score
from storage.db import Database
from storage.migrate import upgrade
from tests import factories

CORPUS = Path(__file__).parent / "data" / "corpus"
SAMPLE = load(CORPUS / "quick_reports_dev.jsonl")
# Written by hand by the rules of the README, to check that the reading generalises.
HELD_OUT = [
    row
    for name in ("held_out", "held_out_2", "held_out_3", "held_out_4", "held_out_5")
    for row in load(CORPUS / f"{name}.jsonl")
]
# Another cadre's households: never to be read as this cadre's, whatever the text says.
STRANGERS = ("王大山", "张三丰", "李秀兰", "黄德才")


async def _seed(url: str, rows: list[dict[str, Any]]) -> dict[str, str]:
    """One cadre per message with that message's households; their phones by message id."""
    db = Database(url)
    phones: dict[str, str] = {}
    try:
        async with db.transaction() as s:
            other = await factories.cadre(s, "别的干部")
            for name in STRANGERS:
                await factories.pairing(s, other, await factories.household(s, name))
            for row in rows:
                who = await factories.cadre(s)
                for name in row["households"]:
                    await factories.pairing(s, who, await factories.household(s, name))
                phones[row["id"]] = who.phone
    finally:
        await db.dispose()
    return phones


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("corpus") / "bangfu.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    phones = asyncio.run(_seed(url, SAMPLE + HELD_OUT))
    return {"url": url, **phones}


def _read(county: dict[str, str], capsys, row: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    at = f"{row['today']}T12:00:00+08:00"
    assert main(["parse", "--phone", county[row["id"]], "--at", at, row["text"]]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # one JSON line, nothing else
    return json.loads(out[0])


@pytest.fixture
def cli(county, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANGFU_DATABASE_URL", county["url"])
    return lambda row: _read(county, capsys, row)


@pytest.mark.parametrize(("name", "rows"), [("sample", SAMPLE), ("held-out", HELD_OUT)])
def test_corpus_is_read_exactly_and_never_with_a_wrong_date(cli, capsys, name, rows):
    result = score(rows, cli)
    with capsys.disabled():
        print("\n" + result.table(f"corpus {name}"))
        for miss in result.misses:
            print("  miss:", miss)
    assert result.wrong_dates == []
    assert result.exact_share >= 0.95, result.misses


def test_parse_prints_the_documented_fields_and_writes_nothing(cli, county):
    row = next(r for r in SAMPLE if r["id"] == "d001")
    before = Path(county["url"].removeprefix("sqlite:///")).read_bytes()
    got = cli(row)
    assert got == {
        "kind": "report",
        "households": ["何国平", "罗桂珍", "冯志勇"],
        "method": "call",
        "date": "2027-12-17",
        "problem": False,
        "event": None,
        "ambiguous": False,
    }
    assert Path(county["url"].removeprefix("sqlite:///")).read_bytes() == before


def test_parse_refuses_an_unknown_phone_and_a_bad_time(cli, county, capsys):
    assert main(["parse", "--phone", "13912345670", "今天去了张三家"]) == 2
    assert "找不到手机号为 13912345670 的干部" in capsys.readouterr().err
    phone = county["d001"]
    assert main(["parse", "--phone", phone, "--at", "昨天", "今天去了张三家"]) == 2
    assert "时间格式不对" in capsys.readouterr().err
