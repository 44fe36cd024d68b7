"""`bangfu invite sheet`: printable codes for a unit's unbound cadres, with QR codes."""

from __future__ import annotations

import asyncio
import ctypes.util
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bench.roster_rows import county_rows
from bot.cli import main
from bot.roster.files import write_rows_csv
from core.clock import SystemClock
from storage.db import Database
from storage.invites import InviteError
from storage.models import Cadre, ChatAccount, Invite
from tests.test_cli_admin import admin_db, query, redeem  # noqa: F401 (fixture)

BOT = "bangfu_test_bot"


def _decoder():  # type: ignore[no-untyped-def]
    """pyzbar's decode, or a skip naming what is missing (pyzbar needs libzbar0)."""
    if ctypes.util.find_library("zbar") is None:
        pytest.skip("libzbar0 is not installed (apt-get install -y libzbar0)")
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    return pyzbar.decode


@pytest.fixture
def county(admin_db, tmp_path, monkeypatch, capsys):  # noqa: F811
    """A county of 40 cadres (5 households each) in 50 units, imported."""
    monkeypatch.setenv("BANGFU_TELEGRAM__BOT_USERNAME", BOT)
    path = tmp_path / "r.csv"
    write_rows_csv(path, county_rows(200))
    assert main(["roster", "import", str(path)]) == 0
    capsys.readouterr()
    return admin_db


def _rows(path):  # type: ignore[no-untyped-def]
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    images = {img.anchor._from.row + 1: img._data() for img in ws._images}
    return rows, images


def test_xlsx_sheet_has_a_unique_code_and_a_qr_of_the_deep_link_per_cadre(county, tmp_path, capsys):
    out = tmp_path / "codes.xlsx"
    assert main(["invite", "sheet", "--unit", "测试县", str(out)]) == 0
    assert "40 名干部的绑定码" in capsys.readouterr().out

    rows, images = _rows(out)
    assert len(rows) == 40
    codes = [r[3] for r in rows]
    assert len(set(codes)) == 40
    for name, unit, phone, code, link, _ in rows:
        assert name.startswith("干部")
        assert link == f"https://t.me/{BOT}?start={code}"
        assert re.fullmatch(r"13\d{9}", phone) and unit.startswith("测试县/单位")
    decode = _decoder()
    from PIL import Image

    for number, row in enumerate(rows, start=2):
        found = decode(Image.open(io.BytesIO(images[number])))
        assert [d.data.decode() for d in found] == [row[4]]
    # Each printed code binds its own cadre, once.
    cadre_id = query(county, select(Cadre.id).where(Cadre.phone == rows[0][2]))[0][0]
    assert redeem(county, codes[0], "cadre").cadre_id == cadre_id


def test_html_cards_carry_codes_and_inline_qr(county, tmp_path, capsys):
    out = tmp_path / "codes.html"
    assert main(["invite", "sheet", "--unit", "测试县/单位03", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count('class="card"') == 1  # cadres 3, 53, ... : only 干部00003 in 40
    assert "干部00003" in text and 'src="data:image/png;base64,' in text
    code = re.search(r'class="code">(\w+)<', text).group(1)  # type: ignore[union-attr]
    assert redeem(county, code, "cadre").kind == "cadre"


def test_pdf_cards_carry_each_cadres_text_and_a_qr_of_the_link(county, tmp_path, capsys):
    out = tmp_path / "codes.pdf"
    assert main(["invite", "sheet", "--unit", "测试县", str(out)]) == 0
    assert "40 名干部的绑定码" in capsys.readouterr().out
    from pypdf import PdfReader

    pages = PdfReader(out).pages
    assert len(pages) == 4  # ten cards to an A4 page
    links = re.compile(rf"https://t\.me/{BOT}\?start=([A-Z0-9]{{10}})")
    decode = _decoder()
    cards: dict[str, str] = {}
    for page in pages:
        text = page.extract_text()
        # One card: name, unit, phone, the code, how to use it, expiry, the deep link.
        found = re.findall(
            r"(干部\d{5})\n(测试县/单位\d\d)\n(13\d{9})\n绑定码：\n([A-Z0-9]{10})\n"
            r"用手机扫二维码，或向机器人发送 /start\n\4\n有效期至 [-\d: ]+，只能用一次\n"
            rf"https://t\.me/{BOT}\?start=\4",
            text,
        )
        assert len(found) == 10 == len(links.findall(text))
        for name, unit, phone, code in found:
            assert phone[-2:] == name[-2:] and unit.endswith(name[-2:])
            cards[code] = phone
        scanned = {decode(image.image)[0].data.decode() for image in page.images}
        assert scanned == {f"https://t.me/{BOT}?start={code}" for *_, code in found}
    assert len(cards) == 40
    code, phone = next(iter(cards.items()))
    cadre_id = query(county, select(Cadre.id).where(Cadre.phone == phone))[0][0]
    assert redeem(county, code, "cadre").cadre_id == cadre_id


def test_qr_codes_rendered_in_worker_processes_come_back_in_order(monkeypatch):
    from bot.roster import cards as sheet

    links = [f"https://t.me/{BOT}?start=CODE{i:06d}" for i in range(30)]
    links[11] = ""  # no bot name configured: no QR code for that row
    monkeypatch.setattr(sheet, "POOL_MIN", 1)
    monkeypatch.setattr(sheet, "CHUNK", 7)
    pooled = list(sheet.qr_pngs(links))
    assert pooled == [sheet.qr_png(link) if link else b"" for link in links]
    decode = _decoder()
    from PIL import Image

    assert decode(Image.open(io.BytesIO(pooled[29])))[0].data.decode() == links[29]


def test_rerun_skips_held_codes_and_renew_replaces_only_the_asked(county, tmp_path, capsys):
    first = tmp_path / "a.xlsx"
    assert main(["invite", "sheet", "--unit", "测试县", str(first)]) == 0
    old = {r[2]: r[3] for r in _rows(first)[0]}
    capsys.readouterr()

    # Nothing new to hand out: every cadre holds an unused code.
    assert main(["invite", "sheet", "--unit", "测试县", str(tmp_path / "b.xlsx")]) == 2
    assert "--renew" in capsys.readouterr().err
    assert not (tmp_path / "b.xlsx").exists()

    # One cadre binds; another lost the paper and gets a new code.
    bound_phone, lost_phone = sorted(old)[:2]
    redeem(county, old[bound_phone], "cadre")
    _bind(county, bound_phone)
    renewed = tmp_path / "c.xlsx"
    args = ["invite", "sheet", "--unit", "测试县", str(renewed), "--renew"]
    assert main([*args, "--phone", bound_phone, "--phone", lost_phone]) == 0
    rows = _rows(renewed)[0]
    assert [r[2] for r in rows] == [lost_phone]  # the bound cadre is not on it
    with pytest.raises(InviteError, match="expired"):
        redeem(county, old[lost_phone], "cadre")
    other = sorted(old)[2]
    assert redeem(county, old[other], "cadre").kind == "cadre"  # not asked: still valid
    assert redeem(county, rows[0][3], "cadre").kind == "cadre"


def _bind(url: str, phone: str) -> None:
    """The cadre with this phone binds a Telegram account (as /start CODE would)."""

    async def run() -> None:
        db = Database(url)
        try:
            async with db.transaction() as s:
                cid = await s.scalar(select(Cadre.id).where(Cadre.phone == phone))
                s.add(
                    ChatAccount(
                        channel="telegram",
                        account_id=phone,
                        chat_id=phone,
                        cadre_id=cid,
                        bound_at=SystemClock().now(),
                    )
                )
        finally:
            await db.dispose()

    asyncio.run(run())


def test_empty_unit_unknown_unit_and_bad_suffix_write_nothing(county, tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    assert main(["invite", "sheet", "--unit", "测试县/镇00", str(out)]) == 2
    assert "没有待绑定的干部" in capsys.readouterr().err
    assert main(["invite", "sheet", "--unit", "别的县", str(out)]) == 2
    assert "找不到单位：别的县" in capsys.readouterr().err
    assert main(["invite", "sheet", "--unit", "测试县", str(tmp_path / "x.docx")]) == 2
    assert "不支持的文件类型 .docx" in capsys.readouterr().err
    assert not out.exists()
    assert query(county, select(func.count()).select_from(Invite))[0][0] == 0
    assert query(county, select(func.count()).select_from(ChatAccount))[0][0] == 0
