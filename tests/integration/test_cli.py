"""The `portal-notifier` console script, run as a real subprocess against the fake portal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, inspect
from sqlmodel import select

from storage.db import make_engine, session_scope
from storage.models import Chat, Delivery, Subscription
from tests.fakes.httpserver import FakeHTTPServer
from tests.fakes.portal_site import LISTING_PATH, PortalSite, build_site, mount

SCRIPT = Path(sys.executable).with_name("portal-notifier")
CLI_TIMEOUT = 60  # seconds for one command, a safety net only
N_ARTICLES = 12
N_FEED = 7
FEED_PREFIX = "/feed-site"
FEED_PATH = f"{FEED_PREFIX}/rss.aspx"


@pytest.fixture
def site(server: FakeHTTPServer) -> PortalSite:
    s = build_site(n_articles=N_ARTICLES, per_page=5)
    mount(server, s)
    # The feed source reads another sub-site: other articles (its copy of the seed removed).
    other = build_site(n_articles=N_FEED + 1, seed=2)
    other.articles.pop(0)
    mount(server, other, prefix=FEED_PREFIX)
    return s


@pytest.fixture
def sources_file(tmp_path: Path, server: FakeHTTPServer) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""
[[source]]
name = "portal"
kind = "html"
urls = ["{server.url(LISTING_PATH)}"]
pages = 3
allow_private = true

[[source]]
name = "feed"
kind = "rss"
urls = ["{server.url(FEED_PATH)}"]
allow_private = true
""",
        encoding="utf-8",
    )
    return path


def cli(*args: str, db_url: str, sources: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs the console script with only our settings in its environment."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url,
        "SOURCES_FILE": str(sources),
        "HTTP_DEADLINE_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run(
        [*command, *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=CLI_TIMEOUT, check=False,
    )  # fmt: skip


def rows(output: str) -> dict[str, list[str]]:
    """The table's rows by source name (first column), split on runs of two spaces."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        if cells and cells[0] in ("portal", "feed"):
            found[cells[0]] = cells
    return found


def test_db_upgrade_creates_the_schema(db_url: str, sources_file: Path, tmp_path: Path) -> None:
    done = cli("db", "upgrade", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "database is up to date" in done.stdout
    engine = make_engine(db_url)
    try:
        assert {"articles", "source_states", "http_cache"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_poll_once_prints_counts_and_a_rerun_costs_one_304_per_listing(
    db_url: str, server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    first = cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "unchanged(304)" in first.stdout
    table = rows(first.stdout)
    # portal: 3 listing pages + 12 article pages; feed: one request with the bodies inside.
    assert table["portal"][1:] == ["15", str(N_ARTICLES), "0", "0", "-"]
    assert table["feed"][1:] == ["1", str(N_FEED), "0", "0", "-"]
    before = len(server.received)
    second = cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    table = rows(second.stdout)
    assert table["portal"][1:] == ["0", "0", "0", "1", "-"]
    assert table["feed"][1:] == ["0", "0", "0", "1", "-"]
    again = server.received[before:]
    assert sorted(r.path for r in again) == sorted([LISTING_PATH, FEED_PATH])
    assert all(r.headers.get("if-none-match") for r in again)


def test_poll_once_queues_alerts_for_subscribed_chats(
    db_url: str, server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    assert cli("db", "upgrade", db_url=db_url, sources=sources_file, cwd=tmp_path).returncode == 0
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            chat = Chat(platform="console", external_id="1")
            s.add(chat)
            s.flush()
            s.add(Subscription(chat_id=chat.id or 0))  # no topic: every new article
        baseline = cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path)
        assert baseline.returncode == 0, baseline.stderr
        with session_scope(engine) as s:  # a source's first read is its back catalogue
            assert s.exec(select(func.count()).select_from(Delivery)).one() == 0
        site.add_article(title="Thông báo mới về cải cách hành chính")
        polled = cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path)
        assert polled.returncode == 0, polled.stderr
        with session_scope(engine) as s:
            queued = s.exec(select(func.count()).select_from(Delivery)).one()
    finally:
        engine.dispose()
    assert queued == 1


def test_sources_list_shows_health_after_failures(
    db_url: str, server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    listed = cli("sources", "list", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert rows(listed.stdout)["portal"][2] == "never polled"
    server.fault(LISTING_PATH, "500")
    server.route(FEED_PATH, "<html><body><p>Không có bài</p></body></html>")
    polled = cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert polled.returncode == 1
    table = rows(polled.stdout)
    assert table["portal"][-1] == "http_500" and table["feed"][-1] == "not_a_feed"
    listed = cli("sources", "list", db_url=db_url, sources=sources_file, cwd=tmp_path)
    portal = rows(listed.stdout)["portal"]
    assert portal[2] == "-"  # never succeeded
    assert portal[3].startswith("http_500: the server answered HTTP 500")  # English, as the CLI
    assert portal[4] == "1"


def test_sources_list_flags_layout_changed(
    db_url: str, server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    assert cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path).returncode == 0
    server.route(LISTING_PATH, "<html><body><h1>Bảo trì</h1></body></html>")
    assert cli("poll", "--once", db_url=db_url, sources=sources_file, cwd=tmp_path).returncode == 1
    listed = cli("sources", "list", db_url=db_url, sources=sources_file, cwd=tmp_path)
    assert rows(listed.stdout)["portal"][-2:] == ["layout changed", "-"]  # -: no backfill
    assert "layout changed" not in rows(listed.stdout)["feed"]


def test_sources_test_prints_what_would_be_extracted_without_a_database(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "untouched" / "db.sqlite"
    url = server.url(LISTING_PATH)
    done = cli(
        "sources", "test", url, "--allow-private",
        db_url=f"sqlite:///{db}", sources=sources_file, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seed = site.articles[0]
    out = done.stdout
    assert f"{url} (html): 5 items" in out
    assert seed.title in out and "16/12/2011" in out and server.url(seed.path) in out
    assert "First article read:" in out and seed.paragraphs[0].strip()[:60] in out
    assert out.count("  OK   ") == 5
    assert not db.parent.exists()


def test_sources_test_shows_every_item_and_the_article_url_that_failed(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    first = site.ordered()[0]
    server.route(first.path, "gone", status=404)  # the first article page is broken
    done = cli(
        "sources", "test", "--source", "portal",
        db_url="sqlite:///unused.db", sources=sources_file, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1  # something failed, but the run shows all it learnt
    out = done.stdout
    assert "5 items" in out
    assert all(a.title in out for a in site.ordered()[:5])
    assert f"FAILED {server.url(first.path)}" in out and "HTTP 404" in out
    assert out.count("  OK   ") == 4 and "First article read:" in out


def test_sources_test_takes_selectors_and_lists_the_keys_with_an_example(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    links = "".join(
        f'<li class="row"><a href="/tin/{n}-bai-so-{n}.aspx">Bài viết thử nghiệm số {n}</a></li>'
        for n in range(1, 7)
    )
    server.route("/odd", f'<html><body><ul class="dsbv">{links}</ul></body></html>')
    url = server.url("/odd")
    args = ("--allow-private", "--articles", "0")

    def test(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(
            "sources", "test", *args, db_url="sqlite:///u.db", sources=sources_file, cwd=tmp_path
        )

    blind = test(url, "--selector", "link=a.nothing", *args)
    assert blind.returncode == 1
    assert "this source needs selectors" in blind.stdout
    for key in ("item", "link", "article_body", "[source.selectors]"):
        assert key in blind.stdout
    assert "(6 links)" in blind.stdout and "link = \"a[href*='/tin/']\"" in blind.stdout
    tried = test(url, "--selector", "link=a[href*='/tin/']", *args)
    assert "6 items" in tried.stdout
    bad = test(url, "--selector", "colour=a", *args)
    assert bad.returncode == 2 and "key=css" in bad.stderr


def test_sources_test_says_when_the_kind_is_wrong(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    def test(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(
            "sources", "test", *args, db_url="sqlite:///u.db", sources=sources_file, cwd=tmp_path
        )

    private = "--allow-private"
    feed = test(server.url(FEED_PATH), "--kind", "html", private)
    assert "not an HTML page: use --kind rss" in feed.stdout
    assert f"(rss): {N_FEED} items" in feed.stdout  # read as what it is
    page = test(server.url(LISTING_PATH), "--kind", "rss", private)
    assert "not a feed (--kind rss): use --kind html" in page.stdout
    unknown = test("--source", "nope")
    assert unknown.returncode == 2 and "portal, feed" in unknown.stderr


def test_sources_test_detects_a_feed(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    url = server.url(FEED_PATH)
    done = cli(
        "sources", "test", url, "--allow-private",
        db_url="sqlite:///unused.db", sources=sources_file, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{url} (rss): {N_FEED} items" in done.stdout
    assert "First article read:" in done.stdout


def test_sources_test_refuses_a_private_address_and_names_the_flag(
    server: FakeHTTPServer, site: PortalSite, sources_file: Path, tmp_path: Path
) -> None:
    done = cli(
        "sources", "test", server.url(LISTING_PATH),
        db_url="sqlite:///unused.db", sources=sources_file, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "private or local address refused" in done.stderr and "blocked_address" in done.stderr
    assert "add --allow-private" in done.stderr and "allow_private" not in done.stderr
    assert server.received == []


def test_a_broken_sources_file_is_reported_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "x"\nkind = "ftp"\nurls = ["http://a/"]\n', "utf-8")
    done = cli("poll", "--once", db_url="sqlite:///unused.db", sources=bad, cwd=tmp_path)
    assert done.returncode == 2
    assert "Cannot read the sources file" in done.stderr and "Traceback" not in done.stderr
