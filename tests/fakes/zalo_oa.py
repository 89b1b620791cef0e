"""A fake Zalo Official Account API and OAuth v4 server over real HTTP on 127.0.0.1.

    with FakeZaloOA() as fake:
        refresh = fake.issue_refresh_token()        # what an admin pastes in ZALO_REFRESH_TOKEN
        fake.follow("u1")                           # a follower who wrote to the OA just now
        ... TokenKeeper(oauth_url=fake.url, ...), ZaloOAClient(api_url=fake.url) ...
        fake.sign(event)                            # body + X-ZEvent-Signature, as Zalo signs

`POST /v3.0/oa/message/cs` (header `access_token`, JSON body `{"recipient": {"user_id"},
"message": {"text", "attachment"?}}`) answers HTTP 200 with `{"error": 0, "message":
"Success", "data": {"message_id", "user_id", "quota"}}` or a negative error: -216 missing
or unknown token, -220 expired token, -201 bad parameters (unknown field, text outside
1-2000 characters, more than 5 buttons...), -213 not a follower, -230 no interaction in
the last 7 days, -32 over `per_minute` sends in 60 s, -211 quota used up; `fail_next(code)`
forces any of them; `expire_tokens_after = n` expires every access token after n sends.
`POST /v4/oa/access_token` (form `refresh_token`, `app_id`,
`grant_type=refresh_token`, header `secret_key`) answers `{"access_token", "refresh_token",
"expires_in": "90000"}` (a string, as Zalo sends it); each refresh token works once and
expires after 90 days; the old access token keeps working until it expires. `hold_refresh()`
keeps the next refresh waiting until `release_refresh()`: a refresh answered with nothing
(dropped) spends nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

from tests.fakes.httpserver import FakeHTTPServer, Request, Response

APP_ID = "4318712038119402271"
APP_SECRET = "fake-app-secret-KjH7s9"
OA_SECRET_KEY = "fake-oa-secret-key-Qw3r"
ACCESS_TTL = 90_000  # seconds, about 25 hours as Zalo gives
REFRESH_TTL = 90 * 86_400
WINDOW = 7 * 86_400  # the interaction window of proactive cs messages
MAX_TEXT = 2000
MAX_BUTTONS = 5
BUTTON_TYPES = {"oa.query.hide", "oa.query.show", "oa.open.url"}
HOLD_LIMIT = 30.0
MESSAGES = {
    -201: "Parameters are invalid",
    -211: "Out of quota",
    -213: "User has not followed the OA",
    -216: "Access token is invalid",
    -220: "Access token has expired or has been removed",
    -230: "User has not interacted with the OA in the past 7 days",
    -32: "Rate limit exceeded",
}


@dataclass(frozen=True)
class CsMessage:
    """One accepted message/cs."""

    user_id: str
    text: str
    buttons: list[dict[str, str]]
    message_id: str
    at: float = 0.0  # time.monotonic() when accepted


class OAError(Exception):
    """An error answer of message/cs."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(detail or MESSAGES.get(code, "error"))
        self.code, self.detail = code, detail


class FakeZaloOA:
    """The fake server; see the module docstring."""

    def __init__(self, *, per_minute: int = 4000, clock: Callable[[], float] = time.time) -> None:
        self.app_id, self.app_secret, self.oa_secret_key = APP_ID, APP_SECRET, OA_SECRET_KEY
        self.per_minute = per_minute
        self.clock = clock
        self.quota: int | None = None  # None: unlimited
        self.expire_tokens_after: int | None = None  # after this many sends, tokens expire
        self.server = FakeHTTPServer()
        self.sent: list[CsMessage] = []
        self.errors: list[tuple[str, int]] = []  # (user_id, code) of refused sends
        self.refresh_calls = 0
        self.followers: dict[str, float] = {}  # user id -> last interaction (epoch s)
        self.refresh_tokens: dict[str, tuple[float, bool]] = {}  # token -> (expires, used)
        self.access_tokens: dict[str, float] = {}  # token -> expires (epoch s)
        self._faults: deque[int] = deque()
        self._recent: deque[float] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._hold = threading.Event()  # set: nothing held
        self._hold.set()
        self._holding = False  # the next refresh waits on _hold
        self._hold_answer = True
        self.refresh_arrived = threading.Event()

    # -- life cycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Root URL for both ZALO_API_URL and ZALO_OAUTH_URL."""
        return self.server.url("").rstrip("/")

    def start(self) -> FakeZaloOA:
        """Start serving."""
        self.server.start()
        self.server.route_fn("/v3.0/oa/message/cs", self._cs)
        self.server.route_fn("/v4/oa/access_token", self._token)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.release_refresh(answer=False)
        self.server.stop()

    def __enter__(self) -> FakeZaloOA:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------
    def issue_refresh_token(self) -> str:
        """A fresh refresh token, as the developer console or an OAuth grant gives."""
        token = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = (self.clock() + REFRESH_TTL, False)
        return token

    def live_refresh_tokens(self) -> list[str]:
        """Refresh tokens not yet spent nor expired."""
        now = self.clock()
        return [t for t, (exp, used) in self.refresh_tokens.items() if not used and exp > now]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (-220 from here on)."""
        now = self.clock()
        for token in self.access_tokens:
            self.access_tokens[token] = min(self.access_tokens[token], now)

    def follow(self, user_id: str, *, interacted_at: float | None = None) -> None:
        """A follower whose last interaction was at `interacted_at` (default: now)."""
        self.followers[user_id] = self.clock() if interacted_at is None else interacted_at

    def unfollow(self, user_id: str) -> None:
        """The user stopped following the OA."""
        self.followers.pop(user_id, None)

    def fail_next(self, code: int, times: int = 1) -> None:
        """The next `times` message/cs calls answer `code`."""
        self._faults.extend([code] * times)

    def hold_refresh(self) -> None:
        """The next token refresh waits (after `refresh_arrived` is set) for release_refresh."""
        self.refresh_arrived.clear()
        self._hold_answer = True
        self._hold = threading.Event()
        self._holding = True

    def release_refresh(self, *, answer: bool = True) -> None:
        """Let the held refresh go on; answer=False drops it unanswered (nothing spent)."""
        self._hold_answer = answer
        self._hold.set()

    def texts_to(self, user_id: str) -> list[str]:
        """Texts accepted for one user, in order."""
        with self._lock:
            return [m.text for m in self.sent if m.user_id == user_id]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` messages were accepted."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.sent) >= count, timeout)

    # -- webhook signing (as Zalo does) ----------------------------------------------------
    def sign(self, event: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, str]:
        """The raw body and its X-ZEvent-Signature header value."""
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        key = self.oa_secret_key if secret is None else secret
        signed = self.app_id.encode() + body + str(event["timestamp"]).encode() + key.encode()
        return body, "mac=" + hashlib.sha256(signed).hexdigest()

    def text_event(
        self, user_id: str, text: str, *, msg_id: str | None = None, at_ms: int | None = None
    ) -> dict[str, Any]:
        """A user_send_text event (the user also interacts: the 7-day window restarts)."""
        if user_id in self.followers:
            self.followers[user_id] = self.clock()
        return {
            "app_id": self.app_id,
            "user_id_by_app": f"app-{user_id}",
            "event_name": "user_send_text",
            "timestamp": str(at_ms if at_ms is not None else int(self.clock() * 1000)),
            "sender": {"id": user_id},
            "recipient": {"id": "oa-1"},
            "message": {"text": text, "msg_id": msg_id or f"m{next(self._ids):08x}"},
        }

    def follow_event(self, user_id: str, *, follow: bool = True) -> dict[str, Any]:
        """A follow (or unfollow) event; following also updates the fake's followers."""
        if follow:
            self.follow(user_id)
        else:
            self.unfollow(user_id)
        return {
            "app_id": self.app_id,
            "event_name": "follow" if follow else "unfollow",
            "timestamp": str(int(self.clock() * 1000)),
            "oa_id": "oa-1",
            "source": "oa_profile",
            "follower": {"id": user_id},
            "user_id_by_app": f"app-{user_id}",
        }

    def post_event(
        self, url: str, event: dict[str, Any], *, signature: str | None = None
    ) -> httpx.Response:
        """POST a signed event to a webhook (blocking), or with the `signature` given."""
        body, mac = self.sign(event)
        headers = {"Content-Type": "application/json", "X-ZEvent-Signature": signature or mac}
        return httpx.post(url, content=body, headers=headers, timeout=10)

    # -- message/cs ------------------------------------------------------------------------
    def _cs(self, req: Request) -> Response:
        user_id = ""
        try:
            if req.method != "POST":
                raise OAError(-201, "POST only")
            body = self._cs_body(req)
            user_id = body["recipient"]["user_id"]
            self._check_token(req.headers.get("access_token", ""))
            if self._faults:
                raise OAError(self._faults.popleft())
            message = self._deliverable(user_id, body["message"])
        except OAError as err:
            self.errors.append((user_id, err.code))
            return Response.json({"error": err.code, "message": str(err)})
        data = {
            "message_id": message.message_id,
            "user_id": user_id,
            "quota": {"quota_type": "reply", "remain": self.quota, "total": None},
        }
        return Response.json({"data": data, "error": 0, "message": "Success"})

    @staticmethod
    def _cs_body(req: Request) -> dict[str, Any]:
        try:
            body = req.json()
        except ValueError:
            raise OAError(-201, "body is not JSON") from None
        if not isinstance(body, dict) or set(body) != {"recipient", "message"}:
            raise OAError(-201, "body needs exactly recipient and message")
        recipient, message = body["recipient"], body["message"]
        if not isinstance(recipient, dict) or set(recipient) != {"user_id"}:
            raise OAError(-201, "recipient needs user_id")
        if not isinstance(recipient["user_id"], str) or not recipient["user_id"]:
            raise OAError(-201, "user_id must be a string")
        if not isinstance(message, dict) or not set(message) <= {"text", "attachment"}:
            raise OAError(-201, "unknown message field")
        text = message.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            raise OAError(-201, f"text must have 1-{MAX_TEXT} characters")
        if "attachment" in message:
            FakeZaloOA._check_buttons(message["attachment"])
        return body

    @staticmethod
    def _check_buttons(attachment: Any) -> None:
        ok = isinstance(attachment, dict) and attachment.get("type") == "template"
        payload = attachment.get("payload") if ok else None
        buttons = payload.get("buttons") if isinstance(payload, dict) else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise OAError(-201, f"attachment needs 1-{MAX_BUTTONS} buttons")
        for b in buttons:
            if not isinstance(b, dict) or b.get("type") not in BUTTON_TYPES:
                raise OAError(-201, "unknown button type")
            title, data = b.get("title"), b.get("payload")
            if not isinstance(title, str) or not 1 <= len(title) <= 100:
                raise OAError(-201, "button title must have 1-100 characters")
            if not isinstance(data, str) or not 1 <= len(data) <= 1000:
                raise OAError(-201, "button payload must have 1-1000 characters")

    def _check_token(self, token: str) -> None:
        expires = self.access_tokens.get(token)
        if expires is None:
            raise OAError(-216)
        if expires <= self.clock():
            raise OAError(-220)

    def _deliverable(self, user_id: str, message: dict[str, Any]) -> CsMessage:
        now = self.clock()
        last = self.followers.get(user_id)
        if last is None:
            raise OAError(-213)
        if now - last > WINDOW:
            raise OAError(-230)
        mono = time.monotonic()
        with self._lock:
            while self._recent and mono - self._recent[0] >= 60.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_minute:
                raise OAError(-32)
            if self.quota is not None and self.quota <= 0:
                raise OAError(-211)
            self._recent.append(mono)
            if self.quota is not None:
                self.quota -= 1
            buttons = (message.get("attachment") or {}).get("payload", {}).get("buttons", [])
            msg_id = f"{next(self._ids):032x}"
            sent = CsMessage(user_id, message["text"], buttons, msg_id, mono)
            self.sent.append(sent)
            if self.expire_tokens_after is not None and len(self.sent) >= self.expire_tokens_after:
                self.expire_tokens_after = None
                self.expire_access_tokens()  # mid fan-out: the next sends get -220
            self._lock.notify_all()
        return sent

    # -- OAuth v4 --------------------------------------------------------------------------
    async def _token(self, req: Request) -> Response:
        self.refresh_calls += 1
        hold, held = self._hold, self._holding
        self._holding = False
        self.refresh_arrived.set()
        if held:
            await asyncio.to_thread(hold.wait, HOLD_LIMIT)  # stop() releases it too
            if not self._hold_answer:
                return Response(503, "", None)  # dropped: the token is not spent
        form = dict(parse_qsl(req.body.decode()))
        problem = self._refresh_problem(req, form)
        if problem is not None:
            code, name = problem
            answer = {"error": code, "error_name": name, "error_reason": name,
                      "error_description": name}  # fmt: skip
            return Response.json(answer, status=400)
        token = form["refresh_token"]
        self.refresh_tokens[token] = (self.refresh_tokens[token][0], True)
        access, fresh = "at-" + secrets.token_urlsafe(24), self.issue_refresh_token()
        self.access_tokens[access] = self.clock() + ACCESS_TTL
        answer = {"access_token": access, "refresh_token": fresh, "expires_in": str(ACCESS_TTL)}
        return Response.json(answer)

    def _refresh_problem(self, req: Request, form: dict[str, str]) -> tuple[int, str] | None:
        if "x-www-form-urlencoded" not in req.headers.get("content-type", ""):
            return -14001, "Body must be application/x-www-form-urlencoded"
        if set(form) != {"refresh_token", "app_id", "grant_type"}:
            return -14001, "Needs exactly refresh_token, app_id, grant_type"
        if form["grant_type"] != "refresh_token":
            return -14001, "grant_type must be refresh_token"
        if form["app_id"] != self.app_id:
            return -14002, "Invalid app id"
        if req.headers.get("secret_key") != self.app_secret:
            return -14003, "Invalid secret key"
        held = self.refresh_tokens.get(form["refresh_token"])
        if held is None or held[1]:
            return -14014, "Invalid refresh token"
        if held[0] <= self.clock():
            return -14015, "Refresh token has expired"
        return None
