"""Layer boundaries, checked rather than hoped for (napari does this with import-linter).

* ``broker`` is headless: it never imports Qt, pyqtgraph or ``supervisor``.
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
