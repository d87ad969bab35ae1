"""`make install` (the first step of `make run` and `make test`) is one line, whatever pip
says; pip's output is in `.venv/install.log`, and its last lines are shown when it fails.

The real Makefile runs in a copy of the checkout, with a stand-in for Python whose venv's
`pip` is as noisy as some machines' (no network, seconds instead of a minute).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALLING = "installing into .venv (log: .venv/install.log)"

# `python -m venv DIR` makes DIR/bin/python, a pip that warns on both streams and fails when
# FAIL_INSTALL is set (for the editable install only, as a build error would).
FAKE_PYTHON = r"""#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    cat > "$3/bin/python" <<'EOF'
#!/bin/sh
echo "WARNING: Running pip as the 'root' user can result in broken permissions"
echo "WARNING: the script normalizer is installed in a folder not on PATH" >&2
if [ -n "$FAIL_INSTALL" ] && [ "$4" = "-e" ]; then
    echo "error: subprocess-exited-with-error: the build failed" >&2
    exit 1
fi
exit 0
EOF
    chmod +x "$3/bin/python"
    echo "venv says something too"
    exit 0
fi
exit 3
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    copy = tmp_path / "checkout"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(CHECKOUT / name, copy / name)
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return copy


def make(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    python = checkout.parent / "python"
    return subprocess.run(  # noqa: S603 - make, with the test's arguments
        ["make", "--no-print-directory", "install", f"PYTHON={python}"],  # noqa: S607
        cwd=checkout,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_install_is_one_line_and_pip_goes_to_the_log(checkout: Path) -> None:
    done = make(checkout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout + done.stderr == INSTALLING + "\n"
    log = (checkout / ".venv" / "install.log").read_text()
    assert "Running pip as the 'root' user" in log
    assert "not on PATH" in log
    assert (checkout / ".venv" / ".installed").exists()
    again = make(checkout)
    assert INSTALLING not in again.stdout + again.stderr  # installed: nothing to do


def test_a_failed_install_shows_the_end_of_the_log(checkout: Path) -> None:
    failed = make(checkout, FAIL_INSTALL="1")
    assert failed.returncode != 0
    shown = failed.stdout + failed.stderr
    assert shown.startswith(INSTALLING + "\n")
    assert "error: subprocess-exited-with-error: the build failed" in shown
    assert "the install failed; see .venv/install.log" in shown
    assert not (checkout / ".venv" / ".installed").exists()
