"""HTML, RSS and Atom renderings of the demo portal (DNN skin with chrome around the content)."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.demo.site import PortalArticle, PortalSite

TAB_PATH = "tin-tuc-su-kien"
LISTING_PATH = f"/vi-vn/{TAB_PATH}"
SOURCE_LINE = "Nguồn: www.thuathienhue.gov.vn"
SLOGAN = '"học tập và làm theo tư tưởng, đạo đức,phong cách hồ chí minh"'
SITE_NAME = "Đảng ủy Khối các cơ quan tỉnh Thừa Thiên Huế"
# Text of the site chrome: none of it may reach an article body.
CHROME_TEXTS = (
    "Tìm kiếm", "Đăng nhập hệ thống", "Người dùng:", "Mật khẩu:", "Thống kê truy cập",
    "Tổng truy câp", "Truy câp hiện tại", SLOGAN, "Các tin khác", "Xem tin theo ngày",
    "Trang chủ", "Bản quyền", "Tin xem nhiều",
)  # fmt: skip
TOTAL_VISITS = 9_696_992
CURRENT_VISITS = 5_773


def _dotted(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _page(title: str, path: str, content: str, counter: int) -> str:
    """The DNN skin: header and menu, left pane (search, login, counters), content pane."""
    return f"""<!DOCTYPE html>
<html lang="vi-VN"><head><meta charset="utf-8"><title>{escape(title)} &gt; {SITE_NAME}</title>
<meta name="description" content="Cổng thông tin điện tử {SITE_NAME}">
<link href="/Portals/_default/default.css" rel="stylesheet">
<script type="text/javascript">var dnn = {{"apiurl": "/API/"}}; if (a < b && c) {{ }}</script>
<style>.news-title {{ font-weight: bold }}</style></head>
<body id="Body"><form method="post" action="{escape(path)}" id="Form">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUKMTY1NDU2MTA1Mg9k{counter}">
<div id="dnn_wrapper"><div id="dnn_HeaderPane">
<a id="dnn_dnnLOGO_hypLogo" href="/vi-vn/"><img src="/Portals/0/logo.png" alt="{SITE_NAME}"></a>
</div>
<div id="dnn_dnnNAV_ctldnnNAV"><ul><li><a href="/vi-vn/">Trang chủ</a></li>
<li><a href="/vi-vn/gioi-thieu">Giới thiệu</a></li>
<li><a href="{LISTING_PATH}">Tin tức - Sự kiện</a></li>
<li><a href="/vi-vn/van-ban">Văn bản</a></li></ul></div>
<table width="100%" cellspacing="0" cellpadding="0"><tr>
<td id="dnn_LeftPane" valign="top" width="220">
 <div class="DnnModule DnnModule-DNN_Search"><div id="dnn_ctr370_ModuleContent">
  <span class="Head">Tìm kiếm</span><input name="dnn$ctr370$txtSearch" type="text">
  <a href="javascript:__doPostBack('dnn$ctr370$cmdSearch','')"><img src="/images/go.gif" alt=""></a>
 </div></div>
 <div class="DnnModule DnnModule-Authentication"><div id="dnn_ctr371_ModuleContent">
  <div class="Head">Đăng nhập hệ thống</div>
  <table><tr><td><span id="dnn_ctr371_Login_lblUsername">Người dùng:</span></td>
  <td><input name="dnn$ctr371$Login$txtUsername" type="text"></td></tr>
  <tr><td><span id="dnn_ctr371_Login_lblPassword">Mật khẩu:</span></td>
  <td><input name="dnn$ctr371$Login$txtPassword" type="password"></td></tr></table>
  <p>&nbsp;</p><p>&nbsp;</p>
 </div></div>
 <div class="DnnModule DnnModule-372"><div id="dnn_ctr372_ModuleContent">
  <div class="Head">Thống kê truy cập</div>
  <div>Tổng truy câp {_dotted(TOTAL_VISITS + counter)}</div>
  <div>Truy câp hiện tại {_dotted(CURRENT_VISITS + counter % 97)}</div>
 </div></div>
</td>
<td id="dnn_ContentPane" valign="top">
 <div class="DnnModule DnnModule-373"><div>{SLOGAN}</div></div>
 {content}
</td></tr></table>
<div id="dnn_FooterPane">Bản quyền thuộc {SITE_NAME}. Địa chỉ: 16 Lê Lợi, thành phố Huế.
Ghi rõ nguồn khi phát hành lại thông tin từ website này.</div>
</div></form></body></html>
"""


def _download_links(article: PortalArticle, text: Callable[[str], str]) -> str:
    """One "Tải về" paragraph per attachment, as the page and the feed's content show them."""
    return "".join(
        f'<p>Tải về: <a href="{escape(href)}" target="_blank">{text(name)}</a></p>'
        for name, href in article.attachments
    )


def article_page(site: PortalSite, article: PortalArticle, *, counter: int = 0) -> str:
    """The article page: title, date line, body, source line, other news, date picker."""
    body = "\n".join(
        f'<p style="text-align: justify">{article.text(p)}</p>' for p in article.paragraphs
    )
    if article.attachments:
        body += f'\n<div class="attachments">{_download_links(article, article.text)}</div>'
    others = [a for a in site.ordered() if a is not article][:5]
    other_items = "".join(
        f'<li><a href="{escape(a.path)}">{a.text(a.title)}</a>'
        f' <span class="date">({a.published:%d/%m/%Y})</span></li>'
        for a in others
    )
    days = "".join(f"<option>{d}</option>" for d in range(1, 32))
    content = f"""<div class="DnnModule DnnModule-EasyNews"><div id="dnn_ctr374_ModuleContent">
 <table class="NewsDetail" width="100%"><tr><td>
  <span id="dnn_ctr374_ViewNews_lblTitle" class="NewsTitle">{article.text(article.title)}</span>
 </td></tr><tr><td>
  <span id="dnn_ctr374_ViewNews_lblDate" class="NewsDate">{article.date_line}</span>
 </td></tr><tr><td><div id="dnn_ctr374_ViewNews_pnlContent">
{body}
 </div></td></tr><tr><td align="right"><i>{SOURCE_LINE}</i></td></tr></table>
 <div class="OtherNews"><b>Các tin khác</b><ul>{other_items}</ul></div>
 <div class="NewsByDate">Xem tin theo ngày<select name="day">{days}</select>
  <input type="submit" value="Xem"></div>
</div></div>"""
    return _page(article.title, article.path, content, counter)


def listing_page(site: PortalSite, page: int = 1, *, counter: int = 0) -> str:
    """One listing page: thumbnail link, title link, date and summary per article; a pager."""
    items = []
    for a in site.page_articles(page):
        items.append(
            f"""<div class="NewsItem">
 <a href="{escape(a.path)}"><img src="/Portals/0/thumb.jpg" alt=""></a>
 <a class="NewsItemTitle" href="{escape(a.path)}">{a.text(a.title)}</a>
 <span class="NewsItemDate">({a.published:%d/%m/%Y})</span>
 <div class="NewsItemSummary">{a.text(a.summary)}</div></div>"""
        )
    pager = "".join(
        f"<b>{n}</b> " if n == page else f'<a href="{LISTING_PATH}?page={n}">{n}</a> '
        for n in range(1, site.pages + 1)
    )
    if page < site.pages:
        pager += f'<a href="{LISTING_PATH}?page={page + 1}">Trang sau</a>'
    content = f"""<div class="DnnModule DnnModule-EasyNews"><div id="dnn_ctr375_ModuleContent">
 <div class="Head">Tin tức - Sự kiện</div>
 {"".join(items)}
 <div class="Pager">Trang: {pager}</div>
</div></div>"""
    return _page("Tin tức - Sự kiện", LISTING_PATH, content, counter)


def rss_feed(site: PortalSite, base_url: str, *, with_content: bool = True, limit: int = 20) -> str:
    """RSS 2.0; guid is the permalink; content:encoded carries the body when asked."""
    base = base_url.rstrip("/")
    entries = []
    for a in site.ordered()[:limit]:
        content = ""
        if with_content:
            html = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
            html += _download_links(a, escape)  # the whole body, so both sources hash alike
            content = f"<content:encoded><![CDATA[{html}]]></content:encoded>"
        entries.append(
            f"""<item><title>{escape(a.title)}</title><link>{escape(base + a.path)}</link>
<guid isPermaLink="true">{escape(base + a.path)}</guid>
<pubDate>{format_datetime(a.published)}</pubDate>
<description>{escape(a.summary)}</description>{content}</item>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>{SITE_NAME}</title><link>{escape(base + LISTING_PATH)}</link>
<description>Tin tức - Sự kiện</description><language>vi-VN</language>
{"".join(entries)}
</channel></rss>
"""


def atom_feed(
    site: PortalSite, base_url: str, *, with_content: bool = False, limit: int = 20
) -> str:
    """Atom 1.0; ids are urn:uuid of the newsid; local times carry +07:00."""
    base = base_url.rstrip("/")
    entries = []
    for a in site.ordered()[:limit]:
        content = ""
        if with_content:
            html = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
            content = f'<content type="html">{escape(html)}</content>'
        entries.append(
            f"""<entry><title>{escape(a.title)}</title><id>urn:uuid:{a.guid}</id>
<link rel="alternate" href="{escape(a.path)}"/>
<updated>{a.published.isoformat()}</updated><published>{a.published.isoformat()}</published>
<author><name>Ban biên tập</name></author><summary>{escape(a.summary)}</summary>{content}</entry>"""
        )
    updated = site.ordered()[0].published.isoformat()
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{escape(base)}/">
<title>{SITE_NAME}</title><id>urn:uuid:{site.cid}</id><updated>{updated}</updated>
<link rel="self" href="{escape(base)}/atom.xml"/>
{"".join(entries)}
</feed>
"""
