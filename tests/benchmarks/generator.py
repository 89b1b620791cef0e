"""Deterministic Vietnamese-like portal articles for benchmarks (same seed, same corpus).

Real administrative vocabulary and place names of Thừa Thiên Huế, multi-syllable phrases,
dates spread over years and stored oldest first (as polling stores them). Bodies are about
60-120 words, the length of a portal news item's opening paragraphs. Other benchmarks may
reuse `articles()` and `make_article()`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from storage.models import Article
from storage.text import fold, normalize

SEED = 20111216
GENERATOR_VERSION = 1  # bump when the corpus changes: cached benchmark databases rebuild
START = datetime(2008, 1, 1, 1, 0, tzinfo=UTC)
YEARS = 16
LOCAL = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no DST

PHRASES = [  # most frequent first; picked with Zipf-like weights 1/rank
    "hội nghị", "Nghị quyết", "tỉnh ủy", "ban chấp hành", "đảng bộ", "ủy ban nhân dân",
    "kế hoạch", "quy chế dân chủ", "phòng chống thiên tai", "chuyển đổi số", "thông báo",
    "cải cách hành chính", "xây dựng nông thôn mới", "phát triển kinh tế", "an sinh xã hội",
    "bảo vệ môi trường", "công tác cán bộ", "kiểm tra giám sát", "học tập và làm theo tư tưởng",
    "đạo đức phong cách Hồ Chí Minh", "mặt trận tổ quốc", "hội đồng nhân dân",
    "văn hóa thể thao", "du lịch", "giáo dục đào tạo", "y tế", "quốc phòng an ninh",
    "xóa đói giảm nghèo", "thu hút đầu tư", "di sản văn hóa", "lễ hội", "sơ kết",
    "tổng kết", "chỉ thị", "đại hội",
]  # fmt: skip
PLACES = [
    "Thừa Thiên Huế", "thành phố Huế", "Phú Vang", "Phú Lộc", "Hương Thủy", "Hương Trà",
    "Quảng Điền", "Phong Điền", "A Lưới", "Nam Đông", "Hà Nội", "Đà Nẵng", "Quảng Trị",
]  # fmt: skip
FILLER = [
    "các", "của", "và", "được", "trong", "những", "với", "cho", "đã", "năm", "thực hiện",
    "triển khai", "tổ chức", "đồng chí", "cán bộ", "đơn vị", "địa phương", "nhiệm vụ",
    "kết quả", "công tác", "tình hình", "nhân dân", "tăng cường", "nâng cao", "hiệu quả",
    "chất lượng", "chủ trì", "tham dự", "phát biểu", "chỉ đạo", "đề nghị", "yêu cầu",
    "thời gian", "tới", "vừa qua", "sáng nay", "chiều", "ngày", "tháng", "toàn tỉnh",
    "huyện", "xã", "phường", "thị xã", "sở", "ngành", "lãnh đạo", "đánh giá", "khó khăn",
]  # fmt: skip
# Each rare name is put in about RARE_RATE of the articles: the "rare word" benchmark class.
RARE = ["Lăng Cô", "Bạch Mã", "Tam Giang", "Cầu Hai", "Chân Mây", "Thuận An"]
RARE_RATE = 0.001
SOURCES = ["tinh", "dangbo", "ubnd", "sotttt"]

_PHRASE_WEIGHTS = list(itertools.accumulate(1 / rank for rank in range(1, len(PHRASES) + 1)))
_FOLD: dict[str, str] = {}


def _fold(word: str) -> str:
    # fold() is per character on NFC text, so folding vocabulary pieces once and joining
    # them equals folding the joined text; it keeps a million articles quick to make.
    cached = _FOLD.get(word)
    if cached is None:
        cached = _FOLD[word] = fold(word)
    return cached


def _sentence(rng: random.Random, words: int) -> tuple[list[str], int]:
    out: list[str] = []
    count = 0
    while count < words:
        r = rng.random()
        if r < 0.80:
            piece = rng.choice(FILLER)
        elif r < 0.94:
            piece = rng.choices(PHRASES, cum_weights=_PHRASE_WEIGHTS)[0]
        else:
            piece = rng.choice(PLACES)
        out.append(piece)
        count += piece.count(" ") + 1
    return out, count


def _text(rng: random.Random, n_words: int, rare: str | None) -> tuple[str, str]:
    pieces: list[str] = []
    total = 0
    while total < n_words:
        sentence, count = _sentence(rng, rng.randint(8, 18))
        if rare and rng.random() < 0.3:
            sentence.insert(rng.randrange(len(sentence) + 1), rare)
            rare = None
        sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
        pieces.extend(sentence)
        pieces[-1] += "."
        total += count
    if rare:
        pieces.append(rare + ".")
    return " ".join(pieces), " ".join(_fold(p) for p in pieces)


def make_article(
    key: str, title: str, body: str, *, published_at: datetime | None, source: str = "tinh"
) -> Article:
    """An Article as the store writes it: normalised text and folded copies (tests use it)."""
    title, body = normalize(title), normalize(body)
    local = (published_at + LOCAL).date() if published_at else None
    return Article(
        key=key,
        source=source,
        url=f"https://thuathienhue.gov.vn/vi-vn/tin/newsid/{key}",
        title=title,
        body=body,
        content_hash=key,
        title_folded=fold(title),
        body_folded=fold(body),
        published_at=published_at,
        local_date=local,
    )


def articles(n: int, *, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """`n` article rows (plain dicts with every column, ids 1..n), oldest first."""
    rng = random.Random(seed)
    step = timedelta(days=365.25 * YEARS) / max(n, 1)
    now = START + timedelta(days=365.25 * YEARS)
    for i in range(1, n + 1):
        published = START + step * i + timedelta(minutes=rng.randint(0, 59))
        rare = rng.choice(RARE) if rng.random() < RARE_RATE * len(RARE) else None
        title_words, _ = _sentence(rng, rng.randint(6, 12))
        title_words[0] = title_words[0][:1].upper() + title_words[0][1:]
        body, body_folded = _text(rng, rng.randint(60, 120), rare)
        key = f"{seed}-{i}"
        yield {
            "id": i,
            "key": key,
            "source": SOURCES[i % len(SOURCES)],
            "url": f"https://thuathienhue.gov.vn/vi-vn/tin/newsid/{key}",
            "title": " ".join(title_words),
            "summary": "",
            "body": body,
            "attachments": "[]",
            "published_at": published,
            "local_date": (published + LOCAL).date(),
            "content_hash": f"{i:064x}",
            "title_folded": " ".join(_fold(w) for w in title_words),
            "body_folded": body_folded,
            "first_seen_at": now,
            "updated_at": now,
            "edit_count": 0,
        }


def date_span(n: int) -> tuple[date, date]:
    """First and last local day the corpus of `n` articles covers."""
    step = timedelta(days=365.25 * YEARS) / max(n, 1)
    return (START + step + LOCAL).date(), (START + step * n + LOCAL).date()
