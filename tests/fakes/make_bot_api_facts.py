"""Extract the facts the fake Bot API checks from the Bot API 10.1 spec; run by hand only.

Usage: .venv/bin/python tests/fakes/make_bot_api_facts.py [path/to/bot-api-10.1.json]

Writes tests/fakes/bot_api_10_1.json: each method's fields (name, types, required) and every
type reachable from a method's fields (fields, or the list of subtypes for union types).
Descriptions are dropped: tests must never read ../shared at run time, so this file is the copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "shared" / "telegram" / "bot-api-10.1.json"
OUT = Path(__file__).resolve().parent / "bot_api_10_1.json"
ARRAY = "Array of "
SCALARS = {"Integer", "String", "Boolean", "Float", "InputFile", "True"}
# A union member's discriminator: 'Scope type, must be chat' / 'always "user"' -> fixed value.
FIXED = re.compile(r'(?:must be|always) "?([a-z_]+)"?$')


def field_fact(f: dict[str, Any]) -> dict[str, Any]:
    """Name, types, required; plus the fixed value of a discriminator field."""
    out = {"name": f["name"], "types": list(f["types"]), "required": bool(f["required"])}
    fixed = FIXED.search(f.get("description", ""))
    if fixed and f["name"] in {"type", "source", "status"}:
        out["value"] = fixed.group(1)
    return out


def field_facts(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep only the facts of each field."""
    return [field_fact(f) for f in fields]


def base_type(name: str) -> str:
    """'Array of Array of X' -> 'X'."""
    while name.startswith(ARRAY):
        name = name[len(ARRAY) :]
    return name


def reachable_types(spec: dict[str, Any]) -> list[str]:
    """Names of every type a method field can carry, followed through fields and subtypes."""
    types = spec["types"]
    todo = [
        base_type(t)
        for m in spec["methods"].values()
        for f in m.get("fields", [])
        for t in f["types"]
    ]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name in SCALARS or name not in types:
            continue
        seen.add(name)
        entry = types[name]
        todo.extend(entry.get("subtypes", []))
        todo.extend(base_type(t) for f in entry.get("fields", []) for t in f["types"])
    return sorted(seen)


def facts(spec: dict[str, Any]) -> dict[str, Any]:
    """The facts document written to bot_api_10_1.json."""
    methods = {
        name: {"fields": field_facts(m.get("fields", []))}
        for name, m in sorted(spec["methods"].items())
    }
    types: dict[str, Any] = {}
    for name in reachable_types(spec):
        entry = spec["types"][name]
        out: dict[str, Any] = {}
        if "subtypes" in entry:
            out["subtypes"] = list(entry["subtypes"])
        out["fields"] = field_facts(entry.get("fields", []))
        types[name] = out
    return {
        "version": spec["version"],
        "release_date": spec["release_date"],
        "source": "PaulSonOfLars/telegram-bot-api-spec api.json (MIT), facts only",
        "methods": methods,
        "types": types,
    }


def main(argv: list[str]) -> int:
    """Read the spec, write the facts file."""
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPEC
    spec = json.loads(src.read_text(encoding="utf-8"))
    doc = facts(spec)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(doc['methods'])} methods, {len(doc['types'])} types")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
