"""docs/protocol.md is normative: where it states something checkable, check it against the wire.

A client written from the document alone, in another language, must meet the
broker it describes: the error codes it may receive, none of them "reserved"
while the broker sends it.
"""
from __future__ import annotations

import re
from pathlib import Path

from broker.wire.protocol import ErrorCode

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"


def section(title_prefix: str) -> str:
    """The text of the section whose heading starts with ``title_prefix``, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(title_prefix)}.*?$(.*?)(?=^#)", text, re.M | re.S)
    assert match, f"docs/protocol.md has no section {title_prefix!r}"
    return match.group(1)


def error_table() -> dict[str, list[str]]:
    """Section 14's table: code -> its cells (meaning, sent when, detail)."""
    rows = {}
    for line in section("14. Errors").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        code = re.fullmatch(r"`([a-z-]+)`", cells[0])
        if line.startswith("|") and code:
            rows[code.group(1)] = cells[1:]
    return rows


def test_the_error_table_lists_exactly_the_codes_of_the_wire():
    table = error_table()
    assert set(table) == {code.value for code in ErrorCode}


def test_each_documented_code_is_the_member_of_that_name():
    for value in error_table():
        assert ErrorCode[value.upper().replace("-", "_")].value == value


def test_no_code_the_broker_sends_is_documented_as_reserved():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "broker").rglob("*.py")))
    for value, cells in error_table().items():
        member = ErrorCode(value).name
        sent = re.search(rf"\bErrorCode\.{member}\b", sources) is not None
        reserved = any("reserved" in cell.lower() for cell in cells)
        assert sent, f"{value} is documented but the broker never sends it"
        assert not reserved, f"{value} is sent but documented as reserved"


def test_the_check_reads_the_table_it_claims_to():
    table = error_table()
    assert "grab_rate_per_s" in table["rate-limited"][1]
    assert table["unsupported-version"][2] == "`supported: 1`"
