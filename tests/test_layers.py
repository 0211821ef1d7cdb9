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
* Nothing outside ``broker.arbiter`` touches the arbiter's private
  (underscore) names: the floor views, the service and the tests use its
  public interface, so its internals can change without a side door breaking.
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


def _arbiter_private_names() -> set[str]:
    """Private (underscore) names the arbiter defines: its module-level helpers and
    constants, and every ``self._x`` attribute or method of its classes."""
    names = set()
    for path in (ROOT / "broker" / "arbiter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(node.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__") and len(n) > 1}


def private_arbiter_uses(path: Path, private: set[str]) -> list[str]:
    """``x._name`` (x not self, cls or super()) and ``from broker.arbiter... import _name``."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr in private:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            found.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("broker.arbiter"):
            found += [f"{where}:{node.lineno} imports {a.name}"
                      for a in node.names if a.name.startswith("_")]
    return found


def test_nothing_outside_the_arbiter_touches_its_private_names():
    """The floor, the service, the tools and the tests use the arbiter's public interface only."""
    private = _arbiter_private_names()
    assert {"_emit", "_sla_policy_missing", "_verdicts"} & private == {"_emit", "_verdicts"}
    outside = [path for path in sorted(ROOT.rglob("*.py"))
               if ".venv" not in path.parts and not path.is_relative_to(ROOT / "broker" / "arbiter")]
    assert outside
    assert [hit for path in outside for hit in private_arbiter_uses(path, private)] == []


def test_the_private_name_check_sees_a_side_door(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("core._emit('x', None)\nself._emit()\nsuper()._emit()\n"
                      "from broker.arbiter.core import _validate_quotas\n")
    hits = private_arbiter_uses(module, {"_emit", "_validate_quotas"})
    assert sorted(hits) == ["m.py:1 uses core._emit", "m.py:4 imports _validate_quotas"]


def test_the_lab_drives_the_arbiter_itself_and_reads_files_only():
    """The lab runs the broker's own arbiter (never a copy of it) and no sockets: arbiter, wire
    types, staffing, the config file format; no server, no store writer, no client."""
    paths = sorted((ROOT / "tools" / "lab").rglob("*.py"))
    assert paths
    allowed = ("broker.arbiter", "broker.wire", "broker.staffing", "broker.service.config")
    assert _outside(paths, allowed) == []
    assert [f for f in _outside(paths, ("broker.wire.protocol",)) if "broker.wire." in f] == []
    assert offenders(paths, ("zmq",)) == []


def test_tests_take_fixtures_from_conftest_and_helpers_by_import():
    """Each test folder's conftest.py provides its fixtures; helpers are plain modules.
    Importing from a conftest (which one is ``conftest`` depends on the order pytest
    loaded them) or importing a fixture by name (a noqa'd unused import) is neither."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] == "conftest":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports from {node.module}")
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith(("from ", "import ")) and "noqa: F401" in line:
                found.append(f"{path.relative_to(ROOT)}:{number} imports something it does not use")
    assert found == []
