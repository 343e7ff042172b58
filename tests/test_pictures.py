"""`docs/pictures.py` keeps working: it renders every picture the README shows."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, python_env


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_the_pictures_script_renders_what_the_readme_shows(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "pictures.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=180, env=python_env(), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    shown = re.findall(r"\(docs/images/([\w-]+\.png)\)", (ROOT / "README.md").read_text())
    assert len(shown) == 5
    for name in shown:
        assert png_size(tmp_path / name)[0] == 960, name
        assert (ROOT / "docs" / "images" / name).exists(), name
    assert png_size(tmp_path / "wall-dark.png") == (960, 540)
    pictures = {name: (tmp_path / name).read_bytes() for name in shown}
    assert len(set(pictures.values())) == 5  # each shows something else
