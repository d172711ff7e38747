"""Scanning a node's files for personal data in clear (issue 12: never written to any disk).

The values searched for are the sample tickets' filers (``node.devnet.samples``): name, phone,
address and ID number, as UTF-8 bytes and as the ``\\uXXXX`` escapes a JSON log would write.
Every file under the given folders is read whole: the databases, their write-ahead logs, the
node logs, session files, keys. A sample name is chosen not to be any officer's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from node.devnet.samples import GANSU_WORLD, demo_tickets


def sample_personal_values() -> list[str]:
    """Every personal value of the sample tickets' filers (names of two characters or more)."""
    values: list[str] = []
    for _, command in demo_tickets():
        consumer = command.consumer
        values += [v for v in (consumer.name, consumer.phone, consumer.address) if len(v) >= 2]
        if consumer.id_number:
            values.append(consumer.id_number)
    officers = {o.name for spec in GANSU_WORLD for o in spec.officers}
    clash = officers.intersection(values)
    assert not clash, f"a sample filer shares an officer's name: {clash}"
    return values


def _forms(value: str) -> list[bytes]:
    forms = [value.encode("utf-8")]
    escaped = json.dumps(value)[1:-1].encode("ascii")
    if escaped != forms[0]:
        forms.append(escaped)
    return forms


def clear_personal_data(folders: Iterable[Path], values: Iterable[str]) -> list[str]:
    """``file: value`` for every personal value found in clear in a file under ``folders``."""
    wanted = [(value, form) for value in values for form in _forms(value)]
    found: list[str] = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            found += [f"{path}: {value}" for value, form in wanted if form in data]
    return found
