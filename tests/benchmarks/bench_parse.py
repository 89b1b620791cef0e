"""Pages parsed per second: our selectolax extraction beside BeautifulSoup+lxml, same run.

Run: .venv/bin/pytest tests/benchmarks/bench_parse.py -s -o addopts=""
The baseline does the equivalent extraction (article links with titles and dates and the next
page on listings; title, date line and chrome-free paragraphs on articles) and is checked to
give the same answers on the fake portal's pages before it is timed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from jobs.ingest.dates import parse_portal_datetime
from jobs.ingest.parse_html import parse_article, parse_listing
from storage.text import normalize
from tests.fakes.portal_site import LISTING_PATH, build_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOST = "https://dukcqt.thuathienhue.gov.vn"
ROUND_SECONDS = 0.4  # each measurement round runs at least this long
ROUNDS = 4
OURS, BASELINE = "selectolax (ours)", "bs4 + lxml (baseline)"
_ARTICLE_URL = re.compile(r"/newsid/|/tid/", re.IGNORECASE)
_DATE_LINE = re.compile(r"(cập nhật|ngày đăng|\d{1,2}/\d{1,2}/\d{4})", re.IGNORECASE)
_STOP = ("Các tin khác", "Xem tin theo ngày", "Nguồn:")


def bs4_listing(html: str, base: str) -> tuple[list[tuple[str, str, datetime | None]], str | None]:
    """Baseline listing extraction with BeautifulSoup (lxml tree builder)."""
    soup = BeautifulSoup(html, "lxml")
    seen: dict[str, tuple[str, datetime | None]] = {}
    for a in soup.find_all("a", href=_ARTICLE_URL):
        url = urljoin(base, str(a["href"]))
        title = normalize(a.get_text(" "))
        if title and (url not in seen or len(title) > len(seen[url][0])):
            container = a.parent if isinstance(a.parent, Tag) else a
            when = parse_portal_datetime(
                normalize(container.get_text(" ")).replace(title, ""), tz=TZ
            )
            seen[url] = (title, when)
    nxt = soup.find("a", string=re.compile(r"^\s*Trang sau\s*$"))
    next_page = urljoin(base, str(nxt["href"])) if isinstance(nxt, Tag) else None
    return [(url, t, d) for url, (t, d) in seen.items()], next_page


def bs4_article(html: str) -> tuple[str, datetime | None, str]:
    """Baseline article extraction: date line, the text before it, the densest <p> parent."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "select", "input", "noscript"]):
        tag.decompose()
    strings = [normalize(s) for s in soup.body.stripped_strings] if soup.body else []
    strings = [s for s in strings if s]
    at = next(i for i, s in enumerate(strings) if _DATE_LINE.search(s) and len(s) < 60)
    title, published = strings[at - 1], parse_portal_datetime(strings[at], tz=TZ)
    scores: dict[int, tuple[int, Tag]] = {}
    for p in soup.find_all("p"):
        parent = p.parent
        if isinstance(parent, Tag):
            score = scores.get(id(parent), (0, parent))[0] + len(p.get_text())
            scores[id(parent)] = (score, parent)
    container = max(scores.values(), key=lambda pair: pair[0])[1]
    paragraphs = []
    for p in container.find_all("p"):
        text = normalize(p.get_text(" "))
        if text and not text.startswith(_STOP):
            paragraphs.append(text)
    return title, published, "\n\n".join(paragraphs)


def _rate(fn: Callable[[str], object], pages: list[str]) -> float:
    """Pages per second of fn over pages, repeated for at least ROUND_SECONDS."""
    count, start = 0, time.perf_counter()
    while True:
        for page in pages:
            fn(page)
        count += len(pages)
        elapsed = time.perf_counter() - start
        if elapsed >= ROUND_SECONDS:
            return count / elapsed


def _best_rates(
    contenders: dict[str, Callable[[str], object]], pages: list[str]
) -> dict[str, float]:
    """Best rate of each contender over interleaved rounds (the machine is shared: noisy)."""
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(ROUNDS):
        for name, fn in contenders.items():
            best[name] = max(best[name], _rate(fn, pages))
    return best


def test_parse_speed_against_beautifulsoup() -> None:
    site = build_site(n_articles=30, per_page=10, seed=7)
    listing_url = HOST + LISTING_PATH
    listings = [site.render_listing(n, counter=n) for n in range(1, site.pages + 1)]
    articles = [site.render_article(a, counter=i) for i, a in enumerate(site.articles)]

    # Same answers first: the baseline must do the equivalent work.
    for page in listings[:1]:
        ours = parse_listing(page, base_url=listing_url, tz=TZ)
        theirs, next_page = bs4_listing(page, listing_url)
        assert [(i.url, i.title, i.published) for i in ours.items] == theirs
        assert ours.next_page == next_page
    for page in articles:
        mine = parse_article(page, url=HOST, tz=TZ)
        title, published, body = bs4_article(page)
        assert (mine.title, mine.published) == (title, published)
        assert body.startswith(mine.body.split("\n\n")[0])

    rates = {
        "listing": _best_rates(
            {
                OURS: lambda p: parse_listing(p, base_url=listing_url, tz=TZ),
                BASELINE: lambda p: bs4_listing(p, listing_url),
            },
            listings,
        ),
        "article": _best_rates(
            {OURS: lambda p: parse_article(p, url=HOST, tz=TZ), BASELINE: bs4_article}, articles
        ),
    }
    size = {kind: sum(map(len, pages)) // len(pages) for kind, pages in
            (("listing", listings), ("article", articles))}  # fmt: skip
    print(f"\nparse speed, best of {ROUNDS} interleaved rounds")
    print(f"{'parser':<24}{'page kind':<18}{'pages/s':>10}{'ms/page':>10}")
    for kind, by_parser in rates.items():
        for parser, rate in by_parser.items():
            label = f"{kind} (~{size[kind] // 1000} kB)"
            print(f"{parser:<24}{label:<18}{rate:>10.0f}{1000 / rate:>10.2f}")
    for kind, by_parser in rates.items():
        print(f"speed-up on {kind} pages: {by_parser[OURS] / by_parser[BASELINE]:.1f}x")
        assert by_parser[OURS] > 0 and by_parser[BASELINE] > 0
