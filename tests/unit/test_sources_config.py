"""The sources TOML: valid entries load; each kind of mistake names the file, source and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.ingest.sources import SourcesFileError, load_sources

OK = 'name = "x"\nkind = "html"\nurls = ["https://a.vn/"]'
DEFAULT = Path(__file__).resolve().parents[2] / "jobs" / "ingest" / "sources.default.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_file_loads_the_thua_thien_hue_sources() -> None:
    sources = load_sources(DEFAULT)
    names = [s.name for s in sources]
    assert "dukcqt" in names and len(set(names)) == len(names)
    dukcqt = next(s for s in sources if s.name == "dukcqt")
    assert dukcqt.kind == "html" and dukcqt.urls[0].startswith("https://dukcqt.")
    assert all(not s.allow_private for s in sources)


def test_full_entry_with_selectors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[source]]
name = "snv"
kind = "html"
urls = ["https://snv.hue.gov.vn/tin-tuc", "https://snv.hue.gov.vn/thong-bao"]
pages = 3
interval_seconds = 900
allow_private = true
[source.selectors]
item = "div.row"
link = "h3 a"
article_body = "#content"

[[source]]
name = "feed"
kind = "rss"
urls = "https://example.gov.vn/rss.aspx"
fetch_articles = false
""",
    )
    html, rss = load_sources(path)
    assert (html.pages, html.interval_seconds, html.allow_private) == (3, 900, True)
    assert html.selectors.item == "div.row" and html.selectors.article_title is None
    assert rss.urls == ["https://example.gov.vn/rss.aspx"] and rss.fetch_articles is False
    assert rss.pages == 1 and rss.interval_seconds is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('kind = "html"\nurls = ["https://a.vn/"]', ["nguồn #1", "'name'", "missing"]),
        ('name = "x"\nkind = "atom"\nurls = ["https://a.vn/"]', ["'x'", "'kind'", "'html'"]),
        ('name = "x"\nkind = "html"\nurls = []', ["'x'", "'urls'"]),
        ('name = "x"\nkind = "html"\nurls = ["ftp://a.vn/"]', ["'x'", "'urls'", "http"]),
        ('name = "x"\nkind = "html"\nurls = ["https://a.vn/"]\npages = 0', ["'pages'"]),
        ('name = "x"\nkind = "html"\nurls = ["https://a.vn/"]\nurll = 1', ["'urll'", "unknown"]),
        ('name = "x"\nkind = "html"\nurls = ["https://a.vn/"]\ninterval_seconds = 5', ["interval"]),
        (
            OK + '\n[source.selectors]\nitem = "div["',
            ["'selectors.item'", "invalid CSS selector"],
        ),
    ],
)
def test_invalid_entry_names_file_source_and_field(
    tmp_path: Path, entry: str, expected: list[str]
) -> None:
    path = _write(tmp_path, f"[[source]]\n{entry}\n")
    with pytest.raises(SourcesFileError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    entry = '[[source]]\nname = "dukcqt"\nkind = "html"\nurls = ["https://a.vn/"]\n'
    path = _write(tmp_path, entry + entry.replace("a.vn", "b.vn"))
    with pytest.raises(SourcesFileError, match=r"nguồn #2 'dukcqt' trùng tên với nguồn #1"):
        load_sources(path)


def test_not_toml_missing_file_and_wrong_table(tmp_path: Path) -> None:
    with pytest.raises(SourcesFileError, match="TOML không hợp lệ"):
        load_sources(_write(tmp_path, "[[source]\nname = "))
    with pytest.raises(SourcesFileError, match="không tìm thấy"):
        load_sources(tmp_path / "missing.toml")
    with pytest.raises(SourcesFileError, match=r"\[\[source\]\]"):
        load_sources(_write(tmp_path, '[[sources]]\nname = "x"\n'))


def test_aliases_are_host_names_lower_case_without_www() -> None:
    from jobs.ingest.sources import SourceConfig

    src = SourceConfig.model_validate(
        {"name": "a", "kind": "html", "urls": ["https://cchc.hue.gov.vn/tin"],
         "aliases": {"WWW.CCHC.hue.gov.vn.": "cchc.thuathienhue.gov.vn"}}
    )  # fmt: skip
    assert src.aliases == {"cchc.hue.gov.vn": "cchc.thuathienhue.gov.vn"}
    with pytest.raises(ValueError, match="host"):
        SourceConfig.model_validate(
            {"name": "a", "kind": "html", "urls": ["https://x.vn/"], "aliases": {"x.vn/p": "y"}}
        )
