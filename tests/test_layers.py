"""The layering contract: studio and pipelines never import Qt; pipelines never imports studio or ui."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    assert summary, output
    assert int(summary.group(1)) >= 2 and int(summary.group(2)) == 0, output
