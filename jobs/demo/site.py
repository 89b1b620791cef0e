"""The demo portal's content: DNN-like pages modelled on the seed page, independent of HTTP.

`build_site()` makes the articles (the seed article verbatim first, then generated Vietnamese
ones with other date-line formats, NFD text, &nbsp;, "Ð" for "Đ" and a PDF attachment); the
`render_*` methods give the HTML listing, article pages, RSS 2.0 and Atom as strings, so the
parsers can be tested on them directly. jobs.demo.server serves them for `run --demo`; the
tests serve them with tests.fakes.portal_site.mount. Article fields hold the clean NFC text
the parsers must recover; the tricks are applied only when rendering.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from importlib.resources import files
from zoneinfo import ZoneInfo

from jobs.demo.pages import (
    CHROME_TEXTS,
    LISTING_PATH,
    SLOGAN,
    SOURCE_LINE,
    TAB_PATH,
    article_page,
    atom_feed,
    listing_page,
    rss_feed,
)
from storage.text import fold_words, normalize

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SEED_PAGE = "seed-article-page.txt"  # the text of the seed page, in jobs/demo/data/
__all__ = [
    "CHROME_TEXTS",
    "LISTING_PATH",
    "SLOGAN",
    "SOURCE_LINE",
    "PortalArticle",
    "PortalSite",
    "build_site",
    "seed_page_text",
]
_ORGS = [
    "Đảng ủy Khối các cơ quan tỉnh", "Sở Nội vụ", "Văn phòng Tỉnh ủy", "Ủy ban nhân dân tỉnh",
    "Ban Tuyên giáo Tỉnh ủy", "Đoàn Thanh niên Khối",
]  # fmt: skip
_EVENTS = [
    "tổ chức Hội nghị chuyên đề về", "triển khai kế hoạch", "sơ kết 6 tháng thực hiện",
    "tổng kết năm về", "mở lớp tập huấn về",
]  # fmt: skip
_TOPICS = [
    "Quy chế dân chủ ở cơ sở", "cải cách hành chính", "phòng, chống thiên tai mùa mưa lũ",
    "Nghị quyết Đại hội Đảng bộ tỉnh", "chuyển đổi số", "công tác kiểm tra, giám sát",
]  # fmt: skip
_SENTENCES = [
    "Sáng ngày {d}, tại hội trường {org}, hội nghị đã diễn ra với sự tham dự của đông đảo cán bộ.",
    "Các đại biểu đã thảo luận sôi nổi về {topic} và đề xuất nhiều giải pháp thiết thực.",
    "Đồng chí lãnh đạo {org} nhấn mạnh yêu cầu nâng cao trách nhiệm của người đứng đầu.",
    "Qua đó góp phần hoàn thành tốt nhiệm vụ chính trị của các cơ quan, đơn vị trong năm.",
    "Hội nghị cũng đã biểu dương các tập thể, cá nhân có thành tích xuất sắc về {topic}.",
    "Đảng ủy đề nghị các chi bộ tiếp tục quán triệt, cụ thể hóa nội dung vào chương trình.",
]


@dataclass
class PortalArticle:
    """One article; title/paragraphs are the clean NFC text a parser must recover."""

    guid: str
    cid: str
    title: str
    paragraphs: list[str]
    published: datetime  # aware, portal zone
    date_format: str  # "seed" | "dotnet" | "bare" | "dashed"
    summary: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, path)
    nfd: bool = False
    nbsp: bool = False
    eth: bool = False
    revision: int = 0

    @property
    def path(self) -> str:
        """DNN URL: /vi-vn/<tab>/tid/<slug>/newsid/<GUID>/cid/<GUID>."""
        slug = fold_words(self.title).replace(" ", "-")[:80]
        return f"/vi-vn/{TAB_PATH}/tid/{slug}/newsid/{self.guid.upper()}/cid/{self.cid.upper()}"

    @property
    def date_line(self) -> str:
        """The date line as the page prints it."""
        local = self.published.astimezone(TZ)
        if self.date_format == "seed":
            return f"Ngày cập nhật {local:%d/%m/%Y}"
        if self.date_format == "dotnet":  # .NET vi-VN: 12-hour clock, SA = AM, CH = PM
            hour = local.hour % 12 or 12
            mark = "SA" if local.hour < 12 else "CH"
            return f"Cập nhật:{local:%d/%m/%Y} {hour}:{local:%M:%S} {mark}"
        if self.date_format == "bare":
            return f"{local:%d/%m/%Y %H:%M}"
        return f"Ngày đăng: {local:%d-%m-%Y}"

    def text(self, value: str) -> str:
        """value as this article's page spells it (NFD, Ð, &nbsp;), HTML-escaped."""
        if self.eth:
            value = value.replace("Đ", "Ð")
        if self.nfd:
            value = unicodedata.normalize("NFD", value)
        value = escape(value, quote=False)
        return value.replace(", ", ",&nbsp;") if self.nbsp else value


def seed_page_text() -> str:
    """The seed page's text as shipped in the package data (found wherever it is installed)."""
    return files("jobs.demo").joinpath("data", SEED_PAGE).read_text(encoding="utf-8")


def _seed_article() -> PortalArticle:
    lines = seed_page_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("Ngày cập nhật"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Nguồn:"))
    paragraphs = [line for line in lines[at + 1 : end] if line.strip()]  # "\xa0" lines kept
    return PortalArticle(
        guid="5d1c2a8e-6f0b-4c1e-9a51-3f2b7c9d0e11",
        cid="7a0f3c2d-1b4e-4d5f-8a6b-9c0d1e2f3a4b",
        title=lines[at - 1],
        paragraphs=paragraphs,
        published=datetime(2011, 12, 16, tzinfo=TZ),
        date_format="seed",
    )


@dataclass
class PortalSite:
    """The articles of the fake portal (newest first in listings) and their renderings."""

    articles: list[PortalArticle]
    per_page: int
    rng: random.Random
    cid: str
    on_new: list[Callable[[PortalArticle], None]] = field(default_factory=list)  # add_article calls

    # -- content -------------------------------------------------------------------------
    def ordered(self) -> list[PortalArticle]:
        """Articles newest first, as the listing shows them."""
        return sorted(self.articles, key=lambda a: a.published, reverse=True)

    @property
    def pages(self) -> int:
        """Number of listing pages."""
        return max(1, -(-len(self.articles) // self.per_page))

    def page_articles(self, page: int) -> list[PortalArticle]:
        """The articles listed on page (1-based)."""
        return self.ordered()[(page - 1) * self.per_page : page * self.per_page]

    def by_path(self, path: str) -> PortalArticle | None:
        """The article served at path, if any."""
        return next((a for a in self.articles if a.path == path), None)

    def version(self, page: int | None = None) -> str:
        """A validator of the listed content (titles, dates, revisions), never of counters."""
        chosen = self.ordered() if page is None else self.page_articles(page)
        basis = "|".join(f"{a.guid}:{a.revision}:{a.title}:{a.published}" for a in chosen)
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def edit_article(
        self, index: int, *, title: str | None = None, paragraphs: list[str] | None = None
    ) -> PortalArticle:
        """Changes an article's title and/or body in place (an edit, same URL and newsid)."""
        article = self.articles[index]
        if title is not None:
            article.title = title
        if paragraphs is not None:
            article.paragraphs = list(paragraphs)
        article.revision += 1
        return article

    def add_article(
        self,
        title: str | None = None,
        paragraphs: list[str] | None = None,
        *,
        published: datetime | None = None,
        date_format: str = "dotnet",
    ) -> PortalArticle:
        """Publishes a new article, newer than all others unless `published` says otherwise."""
        newest = max(a.published for a in self.articles)
        article = _generated(self.rng, len(self.articles), self.cid, newest + timedelta(hours=5))
        article.date_format = date_format
        if title is not None:
            article.title = title
        if paragraphs is not None:
            article.paragraphs = list(paragraphs)
        if published is not None:
            article.published = published
        self.articles.append(article)
        for hook in list(self.on_new):
            hook(article)
        return article

    # -- renderings ----------------------------------------------------------------------
    def render_article(self, article: PortalArticle, *, counter: int = 0) -> str:
        """The article page with its chrome; `counter` changes the visit counters."""
        return article_page(self, article, counter=counter)

    def render_listing(self, page: int = 1, *, counter: int = 0) -> str:
        """Listing page `page` with a "Trang sau" link while more pages follow."""
        return listing_page(self, page, counter=counter)

    def render_rss(self, base_url: str, *, with_content: bool = True) -> str:
        """RSS 2.0 of the newest articles; content:encoded carries the body when asked."""
        return rss_feed(self, base_url, with_content=with_content)

    def render_atom(self, base_url: str, *, with_content: bool = False) -> str:
        """Atom of the newest articles (ids are urn:uuid of the newsid)."""
        return atom_feed(self, base_url, with_content=with_content)


def _generated(rng: random.Random, i: int, cid: str, published: datetime) -> PortalArticle:
    org, event, topic = rng.choice(_ORGS), rng.choice(_EVENTS), rng.choice(_TOPICS)
    day = f"{published.astimezone(TZ):%d/%m}"
    paragraphs = []
    for _ in range(rng.randint(3, 5)):
        picked = rng.sample(_SENTENCES, 3)
        paragraphs.append(" ".join(s.format(d=day, org=org, topic=topic) for s in picked))
    article = PortalArticle(
        guid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        cid=cid,
        title=f"{org}: {event} {topic} (số {i + 1})",
        paragraphs=paragraphs,
        published=published,
        date_format=("dotnet", "bare", "dashed", "seed")[i % 4],
        summary=normalize(f"{org} {event} {topic}."),
        nfd=i % 3 == 0,
        nbsp=i % 2 == 0,
        eth=i % 4 in (1, 2),
    )
    if article.date_format in ("seed", "dashed"):  # these lines carry no time of day
        article.published = article.published.replace(hour=0, minute=0, second=0)
    return article


def build_site(n_articles: int = 12, per_page: int = 5, seed: int = 1) -> PortalSite:
    """The seed article first, then n_articles - 1 generated ones, each a day older."""
    rng = random.Random(seed)
    cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    first = _seed_article()
    articles = [first]
    for i in range(1, n_articles):
        stamp = first.published - timedelta(days=i) + timedelta(hours=rng.choice([8, 10, 15, 0]))
        articles.append(_generated(rng, i, cid, stamp.replace(minute=rng.randint(0, 59))))
    if n_articles > 1:
        articles[1].attachments = [
            ("Kế hoạch số 12-KH/ĐUK.pdf", "/Portals/0/Documents/ke-hoach-12-kh-duk.pdf"),
            ("Phụ lục kèm theo", "/LinkClick.aspx?fileticket=Xk3pQ%3d&tabid=93"),
        ]
    return PortalSite(articles=articles, per_page=per_page, rng=rng, cid=cid)
