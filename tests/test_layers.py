"""Layer boundaries, checked rather than hoped for (napari does this with import-linter).

* ``broker`` is headless: it never imports Qt, pyqtgraph or ``supervisor``.
* The arbiter (``broker.arbiter``) is pure: it imports only the standard
  library's pure parts, msgspec and the protocol, never sockets, files,
  threads or the clock's source.
* Clients (``supervisor``, the simulator) reach the broker only through the
  wire package (``broker.wire``), never the service. The one exception is
  ``broker.arbiter.rules``, the pure rule functions: a client may *call* the
  very function the broker decides with (to show an agent the pool it may
  take) so the two cannot drift; it never keeps a copy of a rule. The
  simulator and tools may also use the pure staffing calculations.
* Widgets never import zmq: sockets live in the link's I/O thread.
* Plain state modules in ``supervisor`` never import Qt, so they are tested
  without a QApplication and can be reused by any front end.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUI = ("PySide6", "pyqtgraph", "shiboken6")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(paths, forbidden) -> list[str]:
    found = []
    for path in paths:
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_broker_never_imports_gui_or_supervisor():
    assert offenders(sorted((ROOT / "broker").rglob("*.py")), GUI + ("supervisor",)) == []


@pytest.mark.parametrize("pattern", ["supervisor/**/state.py", "supervisor/**/history.py"])
def test_plain_state_modules_never_import_qt(pattern):
    paths = sorted(ROOT.glob(pattern))
    assert paths, f"nothing matches {pattern}: the check would pass on no files"
    assert offenders(paths, GUI) == []


def test_the_check_itself_sees_an_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from PySide6.QtCore import QObject\nimport zmq\n")
    assert imported_modules(module) == {"PySide6.QtCore", "zmq"}


#: what the arbiter may import: pure computation, nothing that does I/O or reads a clock
ARBITER_ALLOWED = {"__future__", "heapq", "collections", "dataclasses", "datetime", "typing", "zoneinfo",
                   "enum", "math", "itertools", "bisect", "msgspec", "broker"}


def test_the_arbiter_imports_nothing_impure():
    paths = sorted((ROOT / "broker" / "arbiter").rglob("*.py"))
    assert paths
    found = []
    for path in paths:
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top not in ARBITER_ALLOWED or (top == "broker" and not (
                    name.startswith("broker.arbiter") or name in ("broker.wire.protocol", "broker.wire.reasons"))):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    assert found == []


def _outside(paths, allowed: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for path in paths for name in imported_modules(path)
            if name.split(".")[0] == "broker" and not name.startswith(allowed)]


def test_clients_reach_the_broker_only_through_the_wire():
    paths = sorted((ROOT / "supervisor").rglob("*.py"))
    assert paths
    assert _outside(paths, ("broker.wire", "broker.arbiter.rules")) == []


def test_tools_use_the_wire_the_rules_and_staffing_only():
    paths = sorted((ROOT / "tools" / "simulate").rglob("*.py"))
    assert paths
    assert _outside(paths, ("broker.wire", "broker.arbiter.rules", "broker.staffing")) == []


def test_widgets_never_import_zmq():
    paths = [path for path in sorted((ROOT / "supervisor").rglob("*.py"))
             if path.name != "link.py"]  # the link's I/O thread owns the sockets
    assert offenders(paths, ("zmq",)) == []
