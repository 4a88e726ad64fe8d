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


def test_no_package_of_studio_pipelines_or_ui_imports_a_sibling_that_imports_it_back():
    """The acyclic contract covers all three trees, and lint-imports reports it kept (a cycle anywhere in studio,
    such as a choice list read from a package that reads the request, breaks it)."""
    import tomllib

    contracts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    acyclic = [c for c in contracts if c["type"] == "acyclic_siblings"]
    assert len(acyclic) == 1 and set(acyclic[0]["ancestors"]) == {"pipelines", "studio", "ui"}, acyclic
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    # lint-imports wraps long contract names over lines: match the name's words with any whitespace between
    kept = r"\s+".join(map(re.escape, acyclic[0]["name"].split())) + r"\s+KEPT"
    assert re.search(kept, output), output
