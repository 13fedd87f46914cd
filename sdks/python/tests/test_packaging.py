"""Packaging facts the SDK promises: one version, typed, standard library only, Python 3.9."""

from __future__ import annotations

import ast
import pathlib
import re
import sys

import pytest

import botcadence

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "botcadence").glob("*.py"))
STDLIB = set(getattr(sys, "stdlib_module_names", ()))


def test_version_is_written_once() -> None:
    assert botcadence.__version__ == "0.1.0"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^name = "botcadence"$', pyproject, re.M)
    assert re.search(r'^dynamic = \["version"\]$', pyproject, re.M)
    assert 'path = "src/botcadence/_version.py"' in pyproject
    assert 'requires-python = ">=3.9"' in pyproject
    assert botcadence.USER_AGENT.startswith("botcadence-python/0.1.0 (")


def test_typed_marker_is_shipped() -> None:
    assert (ROOT / "src" / "botcadence" / "py.typed").exists()


def test_sources_parse_as_python_3_9() -> None:
    for path in SOURCES:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


def test_only_the_standard_library_is_imported() -> None:
    if not STDLIB:
        pytest.skip("Python < 3.10 has no list of standard modules")
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in STDLIB, f"{path.name} imports {name}"


def test_readme_python_examples_compile() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks
    for block in blocks:
        compile(block, "README.md", "exec")
