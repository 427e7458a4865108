"""No unused imports or variables, no undefined names: pyflakes over all our Python."""
import subprocess
import sys

from services.kit.settings import REPO_ROOT


def test_pyflakes_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "pyflakes", "services", "scripts", "bench", "tests"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
