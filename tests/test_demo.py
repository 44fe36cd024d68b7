"""`bangfu demo`: a newcomer types into the terminal and reports a call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_reports_a_call_through_the_terminal(tmp_path):
    script = "/mine\n今天给张三打了电话，他家玉米收成不错\n1\n/quit\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "绑定成功" in out and "我的帮扶户 5 户" in out
    assert "请核对" in out and "电话联系" in out
    assert "✅ 已保存：张三" in out
    assert not list(tmp_path.iterdir())  # the throwaway database is gone
