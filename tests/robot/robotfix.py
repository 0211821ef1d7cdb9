"""Robot fixtures: one trained robot per test run, and knowledge bases to break.

Imported by the test modules (not a conftest.py: the top-level tests/conftest.py
is imported as ``conftest`` and a second one would shadow it).
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from robot.knowledge import DEFAULT_DIRECTORY, load_knowledge


@functools.cache
def _shipped_robot():
    from robot.decide import Robot

    return Robot.from_directory()


@pytest.fixture(scope="module")
def robot():
    """The robot over the shipped knowledge base, trained once for all modules."""
    return _shipped_robot()


@pytest.fixture(scope="module")
def knowledge():
    """The shipped knowledge base."""
    return load_knowledge()


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A copy of assets/robot a test may edit."""
    target = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a knowledge-base file (fails if it is not there once)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")
