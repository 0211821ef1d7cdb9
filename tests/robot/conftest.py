"""Robot fixtures: one trained robot per test run, and knowledge bases to break
(the helper ``edit`` is in robot_helpers.py)."""
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
