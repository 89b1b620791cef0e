"""Articles for the bot's tests and benchmark: a small Vietnamese corpus and a bulk generator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import Article
from storage.text import fold

BASE = "https://thuathienhue.gov.vn/vi-vn/tin-tuc/tid/{slug}/newsid/{n:08d}"

# (title, body, published UTC)
CORPUS = [
    (
        "Hội nghị triển khai Quy chế dân chủ ở cơ sở năm 2011",
        "Sáng 16/12, Đảng ủy Khối các cơ quan tỉnh tổ chức hội nghị triển khai Quy chế dân chủ.",
        datetime(2011, 12, 16, 2, 0, tzinfo=UTC),
    ),
    (
        "Cải cách hành chính: kết quả năm 2011",
        "Tỉnh đẩy mạnh cải cách hành chính, rút ngắn thời gian giải quyết hồ sơ.",
        datetime(2011, 12, 15, 3, 0, tzinfo=UTC),
    ),
    (
        "Cảnh báo mưa lũ <b>&</b> sạt lở đất",
        "Ban chỉ huy phòng chống thiên tai cảnh báo mưa lớn & nguy cơ sạt lở ở vùng núi.",
        datetime(2011, 12, 14, 4, 0, tzinfo=UTC),
    ),
]


def article(n: int, title: str, body: str, published: datetime) -> dict[str, object]:
    """Column values of one article row."""
    return {
        "key": f"k{n}",
        "source": "tinh",
        "url": BASE.format(slug=f"bai-{n}", n=n),
        "title": title,
        "summary": body[:120],
        "body": body,
        "attachments": [],
        "published_at": published,
        "local_date": (published + timedelta(hours=7)).date(),
        "content_hash": f"h{n}",
        "title_folded": fold(title),
        "body_folded": fold(body),
        "first_seen_at": published,
        "updated_at": published,
        "edit_count": 0,
    }


def seed(engine: Engine, rows: list[dict[str, object]]) -> None:
    """Insert rows in chunks (the search index follows through its triggers)."""
    with session_scope(engine) as s:
        for i in range(0, len(rows), 2000):
            s.execute(insert(Article), rows[i : i + 2000])


def seed_corpus(engine: Engine, extra_meetings: int = 0) -> None:
    """The corpus, plus `extra_meetings` "hội nghị" articles on 01/12/2011 to fill pages."""
    rows = [article(i, *row) for i, row in enumerate(CORPUS, 1)]
    day = datetime(2011, 12, 1, 1, 0, tzinfo=UTC)
    for j in range(extra_meetings):
        n = 100 + j
        rows.append(
            article(n, f"Hội nghị số {j} của tỉnh", f"Hội nghị lần {j} bàn về dân chủ.", day)
        )
    seed(engine, rows)
