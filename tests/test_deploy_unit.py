"""deploy/bangfu.service is a unit systemd accepts, and it runs `bangfu run`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANALYZE = shutil.which("systemd-analyze")
INSTALLED = "/opt/bangfu/.venv/bin/bangfu"


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")
def test_the_systemd_unit_verifies_and_runs_bangfu(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "bangfu.service").read_text()
    assert f"ExecStart={INSTALLED} run" in text
    # This machine's bangfu stands in for /opt/bangfu's, which systemd checks exists.
    here = Path(sys.executable).parent / "bangfu"
    assert here.exists(), "install the project first: pip install -e ."
    unit = tmp_path / "bangfu.service"
    unit.write_text(text.replace(INSTALLED, str(here)))
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=120, check=False
    )
    # verify warns about an unknown or misspelt setting without failing: no output at all.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
