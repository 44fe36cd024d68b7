"""A county's invitation sheet: 50,000 cadres in one .xlsx, read back with openpyxl.

Every row carries a unique code that binds its own cadre and a QR image of the deep link. All
50,000 QR images are decoded (zxing-cpp's reader), and one in 50 also with zbar, a decoder that
shares no code with the encoder.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from datetime import UTC, datetime

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, insert, select

from bot.cli import main
from storage.db import Database
from storage.invites import hash_code
from storage.models import Cadre, Invite, Unit
from tests.test_cli_admin import admin_db  # noqa: F401 (fixture)
from tests.test_invite_sheet import BOT, _decoder

CADRES = 50_000
UNITS = 100
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _county(url: str) -> None:
    """测试县 with 100 townships of 500 cadres each, stored directly (fast)."""

    async def run() -> None:
        db = Database(url)
        try:
            async with db.transaction() as s:
                s.add(Unit(id=1, parent_id=None, name="测试县", path="测试县", depth=0))
                await s.flush()
                await s.execute(
                    insert(Unit),
                    [
                        {
                            "id": 2 + u,
                            "parent_id": 1,
                            "name": f"镇{u:02d}",
                            "path": f"测试县/镇{u:02d}",
                            "depth": 1,
                        }
                        for u in range(UNITS)
                    ],
                )
                rows = [
                    {
                        "name": f"干部{i:05d}",
                        "rank": "一般干部",
                        "unit_id": 2 + i % UNITS,
                        "phone": f"139{i:08d}",
                        "role": "",
                        "active": True,
                        "created_at": NOW,
                    }
                    for i in range(CADRES)
                ]
                for start in range(0, CADRES, 5_000):
                    await s.execute(insert(Cadre), rows[start : start + 5_000])
        finally:
            await db.dispose()

    asyncio.run(run())


def _count(url: str, stmt) -> int:  # type: ignore[no-untyped-def]
    async def run() -> int:
        db = Database(url)
        try:
            async with db.sessions() as s:
                return int(await s.scalar(stmt) or 0)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_a_county_sheet_of_50000_cadres_reads_back_with_unique_codes_and_qr_links(
    admin_db,  # noqa: F811
    tmp_path,
    monkeypatch,
    capsys,
):
    monkeypatch.setenv("BANGFU_TELEGRAM__BOT_USERNAME", BOT)
    _county(admin_db)
    out = tmp_path / "county.xlsx"
    assert main(["invite", "sheet", "--unit", "测试县", str(out)]) == 0
    assert f"{CADRES} 名干部的绑定码" in capsys.readouterr().out

    ws = load_workbook(out, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == CADRES
    assert len({r[3] for r in rows}) == CADRES
    assert len({r[2] for r in rows}) == CADRES  # every cadre once
    for name, unit, phone, code, link, _ in rows:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{10}", code)
        assert link == f"https://t.me/{BOT}?start={code}"
        assert name[2:] == phone[-5:] and unit == f"测试县/镇{int(phone) % UNITS:02d}"
    # The stored codes are exactly the printed ones, each for its own cadre.
    assert _count(admin_db, select(func.count()).select_from(Invite)) == CADRES
    name, _, phone, code, _, _ = rows[-1]
    stored = select(Cadre.phone).join(Invite, Invite.cadre_id == Cadre.id)
    assert (
        _count(
            admin_db,
            select(func.count()).select_from(
                stored.where(Invite.code_hash == hash_code(code), Cadre.phone == phone).subquery()
            ),
        )
        == 1
    )

    # Each row's QR image, found through the drawing's anchors, decodes to that row's link.
    import zxingcpp

    zbar = _decoder()
    QR = zxingcpp.BarcodeFormat.QRCode
    with zipfile.ZipFile(out) as xlsx:
        drawing = xlsx.read("xl/drawings/drawing1.xml").decode()
        rels = xlsx.read("xl/drawings/_rels/drawing1.xml.rels").decode()
        target = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="\.\./(media/[^"]+)"', rels))
        anchors = [
            re.search(r"<xdr:row>(\d+)</xdr:row>.*?r:embed=\"(rId\d+)\"", part).groups()  # type: ignore[union-attr]
            for part in drawing.split("<xdr:twoCellAnchor")[1:]
        ]
        assert len(anchors) == CADRES
        for row, rel in anchors:
            link = rows[int(row) - 1][4]
            image = Image.open(io.BytesIO(xlsx.read("xl/" + target[rel])))
            found = zxingcpp.read_barcode(image, formats=QR, is_pure=True, try_rotate=False)
            assert found is not None and found.text == link
            if int(row) % 50 == 0:
                assert [d.data.decode() for d in zbar(image)] == [link]
