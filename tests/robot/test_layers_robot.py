"""The robot is a program of its own: no broker, no supervisor, no Qt, no sockets.

Only its service (``robot/service.py``, ``robot/serve.py``) talks to a broker, and
only through ``broker.wire``, like every other client."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("broker", "supervisor", "grabdesk", "PySide6", "pyqtgraph", "shiboken6", "zmq")
#: the broker's client side the robot service may use
SERVICE_MODULES = ("service.py", "serve.py")


def test_robot_imports_nothing_of_the_other_programs():
    paths = sorted((ROOT / "robot").rglob("*.py"))
    assert paths
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                     else [])
            found += [f"{path.relative_to(ROOT)} imports {name}" for name in names
                      if name.split(".")[0] in FORBIDDEN
                      and not (path.name in SERVICE_MODULES and name.startswith("broker.wire"))]
    assert found == []
