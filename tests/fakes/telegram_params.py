"""Decode Bot API call parameters and check them against the Bot API 10.1 facts file.

Telegram accepts parameters in the query string, as form-urlencoded or multipart bodies (every
value a string, objects JSON-serialized) or as a JSON body (native values). This module turns
each into one dict, checks required fields and types (nested objects included), and answers
with Telegram's error shapes.
"""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.telegram_http import Request

FACTS = Path(__file__).resolve().parent / "bot_api_10_1.json"
ARRAY = "Array of "
INT_RE = re.compile(r"-?\d+")
TRUE = {"true", "1"}
FALSE = {"false", "0"}
# Telegram's own wording for some missing fields; others read "<field> is empty".
EMPTY = {"text": "message text is empty"}


class ApiError(Exception):
    """A Bot API error answer: HTTP status and description (and retry_after for 429)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status}
        body["description"] = self.description
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad(description: str) -> ApiError:
    """A 400 Bad Request."""
    return ApiError(400, f"Bad Request: {description}")


@cache
def facts() -> dict[str, Any]:
    """The facts file (methods and types), loaded once."""
    return json.loads(FACTS.read_text(encoding="utf-8"))


@cache
def methods_by_lower() -> dict[str, str]:
    """Method names are case-insensitive on Telegram: lower-case -> spec name."""
    return {name.lower(): name for name in facts()["methods"]}


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    out: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename():
            out[name] = {"filename": part.get_filename(), "size": len(data)}
        else:
            out[name] = data.decode("utf-8")
    return out


def decode_params(request: Request) -> dict[str, Any]:
    """All parameters of a call: query string, then the body (JSON, form or multipart)."""
    params: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    ctype = request.headers.get("content-type", "")
    base = ctype.split(";")[0].strip().lower()
    try:
        if base == "application/json" and request.body.strip():
            body = json.loads(request.body.decode("utf-8"))
            if not isinstance(body, dict):
                raise bad("JSON body must be an object")
            params.update(body)
        elif base == "application/x-www-form-urlencoded":
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
        elif base == "multipart/form-data":
            params.update(_multipart(ctype, request.body))
    except UnicodeDecodeError as exc:
        raise bad("strings must be encoded in UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise bad("can't parse JSON body") from exc
    return params


def _type_name(types: list[str]) -> str:
    return " or ".join(types)


def _scalar(kind: str, value: Any) -> tuple[bool, Any]:
    """(ok, decoded) for one scalar Bot API type."""
    if kind == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if isinstance(value, str) and INT_RE.fullmatch(value.strip()):
            return True, int(value)
    elif kind == "String":
        if isinstance(value, str):
            return True, value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, str(value)
    elif kind in {"Boolean", "True"}:
        if isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.lower() in TRUE | FALSE:
            return True, value.lower() in TRUE
    elif kind == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value)
        try:
            return True, float(value)
        except (TypeError, ValueError):
            return False, None
    elif kind == "InputFile":
        return True, value
    return False, None


def check_value(kind: str, value: Any, where: str) -> Any:
    """Decode and check `value` as Bot API type `kind`; raise ApiError(400) if it is not one."""
    if kind.startswith(ARRAY):
        if isinstance(value, str):
            value = _json(value, where)
        if not isinstance(value, list):
            raise bad(f"can't parse {where}: field must be an Array")
        return [check_value(kind[len(ARRAY) :], item, where) for item in value]
    types = facts()["types"]
    if kind not in types:
        ok, decoded = _scalar(kind, value)
        if not ok:
            raise bad(f"can't parse {where}: value must be of type {kind}")
        return decoded
    if isinstance(value, str):
        value = _json(value, where)
    if not isinstance(value, dict):
        raise bad(f"can't parse {where}: {kind} must be an Object")
    entry = types[kind]
    if "subtypes" in entry:
        return check_value(_pick_subtype(entry["subtypes"], value, kind, where), value, where)
    out = dict(value)
    for f in entry["fields"]:
        name = f["name"]
        if name not in value or value[name] is None:
            if f["required"]:
                raise bad(f'can\'t parse {where}: field "{name}" of {kind} is required')
            continue
        out[name] = check_field(f, value[name], where)
        if "value" in f and out[name] != f["value"]:
            raise bad(f'can\'t parse {where}: {kind}.{name} must be "{f["value"]}"')
    return out


def _pick_subtype(subtypes: list[str], value: dict[str, Any], kind: str, where: str) -> str:
    types = facts()["types"]
    for sub in subtypes:
        for f in types[sub].get("fields", []):
            if "value" in f and value.get(f["name"]) == f["value"]:
                return str(sub)
    raise bad(f"can't parse {where}: unsupported {kind} type")


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"can't parse {where} JSON object") from exc


def check_field(f: dict[str, Any], value: Any, where: str) -> Any:
    """Decode a field's value trying each of its allowed types in order."""
    errors: dict[str, ApiError] = {}
    for kind in f["types"]:
        try:
            return check_value(kind, value, where)
        except ApiError as exc:
            errors[kind] = exc
    closest = _closest_type(list(errors), value)
    if closest is not None:
        raise errors[closest]
    raise bad(f'field "{f["name"]}" must be of type {_type_name(f["types"])}')


def _closest_type(kinds: list[str], value: Any) -> str | None:
    """For an object value, the candidate type sharing the most field names with it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return kinds[0] if len(kinds) == 1 else None
    if len(kinds) == 1:
        return kinds[0]
    if not isinstance(value, dict):
        return None
    types = facts()["types"]
    best = max(
        kinds,
        key=lambda k: len({f["name"] for f in types.get(k, {}).get("fields", [])} & set(value)),
    )
    fields = {f["name"] for f in types.get(best, {}).get("fields", [])}
    return best if fields & set(value) else None


def check_call(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check a call's parameters against the spec; return them decoded (unknown ones kept)."""
    out = dict(params)
    for f in facts()["methods"][method]["fields"]:
        name = f["name"]
        value = params.get(name)
        if value is None or value == "":
            if f["required"]:
                raise bad(EMPTY.get(name, f"{name} is empty"))
            out.pop(name, None)
            continue
        out[name] = check_field(f, value, name)
    return out
