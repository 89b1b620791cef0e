"""The bot's messages in Vietnamese (default) and English, and how a chat's language is chosen."""

from __future__ import annotations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"


def pick_language(chat_language: str | None, language_code: str | None) -> str:
    """The chat's /lang setting, else the client's language ("en*" means English), else vi."""
    if chat_language in LANGS:
        return chat_language
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (falling back to Vietnamese), with `values` filled in."""
    entry = MESSAGES[key]
    return entry.get(lang, entry[DEFAULT_LANG]).format(**values)


# (command, example arguments, {lang: description}); /help and setMyCommands use this list.
COMMANDS: list[tuple[str, str, dict[str, str]]] = [
    ("latest", "5", {"vi": "Tin mới nhất (tối đa 20)", "en": "Newest articles (up to 20)"}),
    ("search", "quy chế dân chủ", {"vi": "Tìm bài viết", "en": "Search articles"}),
    (
        "date",
        "16/12/2011",
        {"vi": "Xem tin theo ngày hoặc khoảng ngày", "en": "Articles of a day or a date range"},
    ),
    (
        "subscribe",
        "cải cách hành chính",
        {
            "vi": "Nhận tin theo chủ đề (bỏ trống: mọi tin; nguồn <tên> [chủ đề]: một nguồn)",
            "en": "Alerts for a topic (none: all; source <name> [topic]: one source)",
        },
    ),
    ("unsubscribe", "all", {"vi": "Bỏ theo dõi chủ đề", "en": "Stop alerts for a topic"}),
    ("subscriptions", "", {"vi": "Các chủ đề đang theo dõi", "en": "Your topics"}),
    (
        "sources",
        "",
        {"vi": "Các nguồn tin (quản trị: tình trạng)", "en": "Sources (admins: health)"},
    ),
    (
        "digest",
        "daily 07:30",
        {"vi": "Nhận ngay hoặc bản tin hằng ngày", "en": "Instant alerts or a daily digest"},
    ),
    ("quiet", "22:00-06:00", {"vi": "Giờ yên lặng", "en": "Quiet hours"}),
    ("lang", "en", {"vi": "Ngôn ngữ (vi, en)", "en": "Language (vi, en)"}),
    ("start", "", {"vi": "Bắt đầu", "en": "Start"}),
    ("help", "", {"vi": "Hướng dẫn", "en": "Help"}),
]

# Shown in /help and in the command menu to admins only. An example may differ by language.
ADMIN_COMMANDS: list[tuple[str, str | dict[str, str], dict[str, str]]] = [
    (
        "broadcast",
        {"vi": "[dân chủ] Nội dung thông báo", "en": "[dân chủ] Text of the announcement"},
        {"vi": "Gửi thông báo (mọi người hoặc một chủ đề)", "en": "Announce (all or a topic)"},
    ),
    ("stats", "", {"vi": "Thống kê", "en": "Statistics"}),
    (
        "admin",
        "pending",
        {
            "vi": "Quản trị viên: add/remove <id>, pending, list",
            "en": "Admins: add/remove <id>, pending, list",
        },
    ),
]


def example_in(example: str | dict[str, str], lang: str) -> str:
    """A command's example in `lang` (one example may serve both languages)."""
    return example if isinstance(example, str) else example.get(lang, example[DEFAULT_LANG])


MESSAGES: dict[str, dict[str, str]] = {
    "start": {
        "vi": "Xin chào! Bot gửi tin mới từ cổng thông tin điện tử của tỉnh: tìm bài, "
        "xem tin theo ngày và nhận thông báo theo chủ đề. Gõ /help để xem các lệnh.",
        "en": "Hello! This bot brings news from the provincial portal: search articles, "
        "browse by day and get alerts for your topics. Send /help to see the commands.",
    },
    "start_back": {
        "vi": "Chào mừng bạn trở lại! Bot sẽ gửi tin cho cuộc trò chuyện này như trước.",
        "en": "Welcome back! Alerts to this chat are switched on again.",
    },
    "help_title": {"vi": "Các lệnh (ví dụ):", "en": "Commands (with an example):"},
    "help_plain": {
        "vi": "Gửi một đoạn chữ bất kỳ (không có /) để tìm kiếm.",
        "en": "Send any text without a / to search for it.",
    },
    "unknown": {
        "vi": "Không có lệnh /{name}. Gõ /help để xem các lệnh.",
        "en": "There is no /{name} command. Send /help to see the commands.",
    },
    "latest_bad": {
        "vi": "Số bài phải là một số từ 1 đến {max}, ví dụ: /latest 5",
        "en": "The number of articles must be between 1 and {max}, e.g. /latest 5",
    },
    "latest_title": {"vi": "{n} tin mới nhất:", "en": "{n} newest articles:"},
    "no_articles": {"vi": "Chưa có bài viết nào.", "en": "There are no articles yet."},
    "search_empty": {
        "vi": "Hãy nhập từ cần tìm, ví dụ: /search quy chế dân chủ",
        "en": "Type the words to search for, e.g. /search quy chế dân chủ",
    },
    "search_too_long": {
        "vi": "Nội dung tìm kiếm quá dài (tối đa {max} ký tự). Hãy rút gọn, "
        "ví dụ: /search quy chế dân chủ",
        "en": "The search is too long (at most {max} characters). Shorten it, "
        "e.g. /search quy chế dân chủ",
    },
    "search_no_terms": {
        "vi": "Không có từ nào để tìm. Hãy dùng chữ hoặc số, ví dụ: /search cải cách hành chính",
        "en": "There is no word to search for. Use letters or digits, "
        "e.g. /search cải cách hành chính",
    },
    "search_none": {
        "vi": "Không tìm thấy bài nào cho “{query}”.",
        "en": "No article found for “{query}”.",
    },
    "search_title": {
        "vi": "Kết quả cho “{query}”: {total} bài (trang {page}/{pages})",
        "en": "Results for “{query}”: {total} articles (page {page}/{pages})",
    },
    "plain_hint": {
        "vi": "Đang tìm kiếm nội dung bạn gửi. Gõ /help để xem các lệnh.",
        "en": "Searching for what you sent. Send /help to see the commands.",
    },
    "date_empty": {
        "vi": "Hãy nhập ngày, ví dụ: /date {example}",
        "en": "Type a day, e.g. /date {example}",
    },
    "date_invalid": {
        "vi": "Không hiểu ngày này. Ví dụ: /date {example}",
        "en": "That is not a date I understand. Example: /date {example}",
    },
    "date_impossible": {
        "vi": "Ngày này không có trên lịch. Ví dụ: /date {example}",
        "en": "That day does not exist. Example: /date {example}",
    },
    "date_reversed": {
        "vi": "Ngày bắt đầu phải trước ngày kết thúc. Ví dụ: /date {example}",
        "en": "The start must come before the end. Example: /date {example}",
    },
    "date_too_long": {
        "vi": "Khoảng ngày quá dài (tối đa {days} ngày). Ví dụ: /date {example}",
        "en": "The range is too long (at most {days} days). Example: /date {example}",
    },
    "date_title": {
        "vi": "Tin {span}: {total} bài (trang {page}/{pages})",
        "en": "Articles {span}: {total} (page {page}/{pages})",
    },
    "date_none": {"vi": "Không có bài nào {span}.", "en": "No articles {span}."},
    "date_nearest": {
        "vi": "Ngày gần nhất có tin:",
        "en": "Nearest days with articles:",
    },
    "span_day": {"vi": "ngày {start}", "en": "on {start}"},
    "span_range": {"vi": "từ {start} đến {end}", "en": "from {start} to {end}"},
    "prev": {"vi": "‹ Trang trước", "en": "‹ Previous"},
    "next": {"vi": "Trang sau ›", "en": "Next ›"},
    "expired": {
        "vi": "Danh sách này đã hết hạn, hãy gửi lại lệnh.",
        "en": "This list has expired; send the command again.",
    },
    "sub_all": {
        "vi": "Đã đăng ký nhận mọi tin mới.",
        "en": "Subscribed to every new article.",
    },
    "sub_topic": {
        "vi": "Đã đăng ký chủ đề “{topic}”.",
        "en": "Subscribed to the topic “{topic}”.",
    },
    "sub_exists": {
        "vi": "Bạn đã đăng ký “{topic}” rồi.",
        "en": "You are already subscribed to “{topic}”.",
    },
    "sub_too_many": {
        "vi": "Mỗi cuộc trò chuyện theo dõi tối đa {max} chủ đề. Hãy bỏ bớt bằng /unsubscribe.",
        "en": "A chat can follow at most {max} topics. Remove some with /unsubscribe.",
    },
    "sub_too_long": {
        "vi": "Chủ đề quá dài (tối đa {max} ký tự), ví dụ: /subscribe dân chủ",
        "en": "The topic is too long (at most {max} characters), e.g. /subscribe dân chủ",
    },
    "sub_no_words": {
        "vi": "Chủ đề cần có chữ hoặc số, ví dụ: /subscribe dân chủ",
        "en": "A topic needs letters or digits, e.g. /subscribe dân chủ",
    },
    "every_article": {"vi": "(mọi tin mới)", "en": "(every new article)"},
    "unsub_usage": {
        "vi": "Hãy ghi chủ đề hoặc all, ví dụ: /unsubscribe dân chủ hoặc /unsubscribe all",
        "en": "Name a topic or all, e.g. /unsubscribe dân chủ or /unsubscribe all",
    },
    "unsub_done": {"vi": "Đã bỏ theo dõi “{topic}”.", "en": "Unsubscribed from “{topic}”."},
    "unsub_all_done": {
        "vi": "Đã bỏ theo dõi tất cả ({n} chủ đề).",
        "en": "Unsubscribed from all topics (removed: {n}).",
    },
    "unsub_gone": {
        "vi": "Chủ đề này đã được bỏ theo dõi rồi. Xem danh sách: /subscriptions",
        "en": "That topic was already removed. See /subscriptions",
    },
    "unsub_missing": {
        "vi": "Bạn chưa đăng ký “{topic}”. Xem danh sách: /subscriptions",
        "en": "You are not subscribed to “{topic}”. See /subscriptions",
    },
    "subs_none": {
        "vi": "Bạn chưa theo dõi chủ đề nào. Ví dụ: /subscribe dân chủ",
        "en": "You follow no topic yet. Example: /subscribe dân chủ",
    },
    "subs_title": {"vi": "Các chủ đề đang theo dõi:", "en": "Your topics:"},
    "subs_delivery": {
        "vi": "Nhận tin: {mode}. Giờ yên lặng: {quiet}.",
        "en": "Delivery: {mode}. Quiet hours: {quiet}.",
    },
    "mode_instant": {"vi": "ngay khi có tin", "en": "as soon as published"},
    "mode_daily": {"vi": "bản tin hằng ngày lúc {time}", "en": "daily digest at {time}"},
    "quiet_none": {"vi": "không", "en": "none"},
    "digest_usage": {
        "vi": "Cách dùng: /digest now (nhận ngay), /digest daily 07:30 (hằng ngày), /digest off",
        "en": "Usage: /digest now (instant), /digest daily 07:30 (daily), /digest off",
    },
    "digest_instant": {
        "vi": "Sẽ gửi từng tin ngay khi có.",
        "en": "Each article will be sent as soon as it is published.",
    },
    "digest_off": {
        "vi": "Đã tắt bản tin hằng ngày; sẽ gửi từng tin ngay khi có.",
        "en": "Daily digest off; each article will be sent as soon as it is published.",
    },
    "digest_daily": {
        "vi": "Sẽ gửi một bản tin mỗi ngày lúc {time}.",
        "en": "A digest will be sent every day at {time}.",
    },
    "bad_time": {
        "vi": "Giờ không hợp lệ: “{value}”. Dùng dạng HH:MM, ví dụ 07:30",
        "en": "Invalid time “{value}”. Use HH:MM, e.g. 07:30",
    },
    "quiet_usage": {
        "vi": "Cách dùng: /quiet 22:00-06:00 hoặc /quiet off",
        "en": "Usage: /quiet 22:00-06:00 or /quiet off",
    },
    "quiet_set": {
        "vi": "Giờ yên lặng từ {start} đến {end}: tin đến sẽ chờ đến hết giờ này.",
        "en": "Quiet hours {start} to {end}: alerts wait until they end.",
    },
    "quiet_same": {
        "vi": "Giờ bắt đầu và kết thúc phải khác nhau, ví dụ: /quiet 22:00-06:00",
        "en": "Start and end must differ, e.g. /quiet 22:00-06:00",
    },
    "quiet_off": {"vi": "Đã tắt giờ yên lặng.", "en": "Quiet hours are off."},
    "lang_usage": {"vi": "Cách dùng: /lang vi hoặc /lang en", "en": "Usage: /lang vi or /lang en"},
    "lang_set": {"vi": "Đã chuyển sang tiếng Việt.", "en": "Language set to English."},
    "flood": {
        "vi": "Bạn gửi lệnh quá nhanh. Vui lòng chờ khoảng {seconds} giây rồi thử lại.",
        "en": "You are sending commands too fast. Please wait about {seconds} seconds.",
    },
    "admin_help_title": {"vi": "Lệnh quản trị:", "en": "Admin commands:"},
    "broadcast_usage": {
        "vi": "Cách dùng: /broadcast nội dung (gửi mọi người) hoặc /broadcast [chủ đề] nội dung",
        "en": "Usage: /broadcast text (everyone) or /broadcast [topic] text",
    },
    "broadcast_too_long": {
        "vi": "Thông báo quá dài (tối đa {max} ký tự).",
        "en": "The announcement is too long (at most {max} characters).",
    },
    "broadcast_none": {
        "vi": "Không có cuộc trò chuyện nào nhận thông báo này.",
        "en": "No chat would receive this announcement.",
    },
    "broadcast_done": {
        "vi": "Đã xếp hàng gửi thông báo tới {n} cuộc trò chuyện.",
        "en": "Announcement queued; chats to receive it: {n}.",
    },
    "stats_title": {"vi": "Thống kê", "en": "Statistics"},
    "stats_articles": {
        "vi": "Bài viết: {n} (mới trong 24 giờ: {new})",
        "en": "Articles: {n} (new in 24 hours: {new})",
    },
    "stats_chats": {
        "vi": "Cuộc trò chuyện: {active} đang nhận, {inactive} đã dừng",
        "en": "Chats: {active} active, {inactive} stopped",
    },
    "stats_topics": {"vi": "Chủ đề đăng ký: {n}", "en": "Subscribed topics: {n}"},
    "stats_deliveries": {"vi": "Gửi tin 24 giờ qua: ", "en": "Deliveries in 24 hours: "},
    "stats_undelivered": {
        "vi": "Chưa gửi được trong 24 giờ qua, theo lý do:",
        "en": "Not delivered in 24 hours, by reason:",
    },
    "stats_pending": {
        "vi": "Đang chờ gửi theo nền tảng: ",
        "en": "Waiting to be sent, by platform: ",
    },
    "cli_queue_header": {"vi": "nền tảng,đang chờ", "en": "platform,pending"},
    "cli_poll_header": {
        "vi": "nguồn,đã tải,mới,đã sửa,không đổi(304),lỗi",
        "en": "source,fetched,new,edited,unchanged(304),failed",
    },
    "cli_poll_skipped": {"vi": "bỏ qua ({n})", "en": "skipped ({n})"},
    "cli_poll_failed_pages": {"vi": "trang bài lỗi:", "en": "failed article pages:"},
    "cli_sources_header": {
        "vi": "nguồn,loại,lần tốt gần nhất,lỗi gần nhất,số lần lỗi,lần thử tới,,lấy tin cũ",
        "en": "source,kind,last success,last error,failures,next attempt,,backfill",
    },
    "cli_never_polled": {"vi": "chưa quét lần nào", "en": "never polled"},
    "cli_layout_changed": {"vi": "bố cục đã đổi", "en": "layout changed"},
    "cli_ambiguous_dates": {
        "vi": "{n} ngày mơ hồ: khai báo date_order",
        "en": "{n} ambiguous dates: set date_order",
    },
    "cli_backfill_walk": {
        "vi": "{pages} trang, {articles} bài",
        "en": "{pages} pages, {articles} articles",
    },
    "cli_backfill_walk_done": {"vi": " (xong)", "en": " (done)"},
    "cli_undelivered_header": {
        "vi": "nền tảng,lý do chưa gửi được,số tin",
        "en": "platform,why not delivered,deliveries",
    },
    "cli_queue_empty": {"vi": "Không có tin nào đang chờ gửi.", "en": "Nothing is waiting."},
    "cli_reason_http": {
        "vi": "máy chủ trả lỗi HTTP {code}",
        "en": "the server answered HTTP {code}",
    },
    "cli_sources_unreadable": {
        "vi": "Không đọc được tệp nguồn {path}: {error}",
        "en": "Cannot read the sources file {path}: {error}",
    },
    "cli_error": {
        "vi": "Lỗi: {what} ({reason}: {error})",
        "en": "Error: {what} ({reason}: {error})",
    },
    "cli_more_chars": {"vi": " … (+{n} ký tự)", "en": " … (+{n} characters)"},
    "dry_head": {"vi": "{url} ({kind}): {n} mục / items", "en": "{url} ({kind}): {n} items"},
    "dry_is_feed": {
        "vi": 'Đây là nguồn tin RSS/Atom, không phải trang HTML: dùng --kind rss (kind = "rss" '
        "trong tệp nguồn) / this is a feed, not an HTML page",
        "en": 'This is an RSS/Atom feed, not an HTML page: use --kind rss (kind = "rss")',
    },
    "dry_is_html": {
        "vi": "Đây là trang HTML, không phải RSS/Atom (--kind {given}): dùng --kind html "
        '(kind = "html") / this is an HTML page, not a feed',
        "en": 'This is an HTML page, not a feed (--kind {given}): use --kind html (kind = "html")',
    },
    "dry_feed_link": {
        "vi": "Trang có nguồn RSS/Atom / the page links a feed: {url}",
        "en": "The page links a feed: {url}",
    },
    "dry_order_dmy": {
        "vi": "Ngày tháng / dates: ngày trước tháng (dmy) ({reason})",
        "en": "Dates: day first (dmy) ({reason})",
    },
    "dry_order_mdy": {
        "vi": "Ngày tháng / dates: tháng trước ngày (mdy) ({reason})",
        "en": "Dates: month first (mdy) ({reason})",
    },
    "dry_ambiguous": {
        "vi": '{n} ngày mơ hồ (9/12 hay 12/9?) bị bỏ trống: đặt date_order = "dmy" hoặc "mdy"',
        "en": '{n} ambiguous dates (9/12 or 12/9?) left empty: set date_order = "dmy" or "mdy"',
    },
    "dry_articles": {
        "vi": "Trang bài viết / article pages ({n} đầu tiên):",
        "en": "Article pages (the first {n}):",
    },
    "dry_chars": {"vi": "{n} ký tự", "en": "{n} characters"},
    "dry_failed": {"vi": "LỖI", "en": "FAILED"},
    "dry_first": {
        "vi": "Bài đầu tiên đọc được / first article read:",
        "en": "First article read:",
    },
    "dry_no_items": {
        "vi": "Không tìm thấy bài viết nào: cần khai báo selectors cho nguồn này.",
        "en": "No article found: this source needs selectors.",
    },
    "dry_keys": {
        "vi": "Các khoá của [source.selectors] (CSS) / selector keys:",
        "en": "Keys of [source.selectors] (CSS):",
    },
    "selector_item": {"vi": "mỗi mục của danh sách", "en": "one listing entry"},
    "selector_link": {"vi": "liên kết tới bài (trong mục)", "en": "the article link (in item)"},
    "selector_title": {"vi": "tiêu đề trong mục", "en": "title inside item"},
    "selector_date": {"vi": "ngày trong mục", "en": "date inside item"},
    "selector_summary": {"vi": "tóm tắt trong mục", "en": "summary inside item"},
    "selector_article_title": {"vi": "tiêu đề trang bài", "en": "article page title"},
    "selector_article_date": {"vi": "ngày trên trang bài", "en": "article page date"},
    "selector_article_body": {"vi": "nội dung bài", "en": "article body"},
    "dry_pattern": {
        "vi": "Mẫu liên kết lặp lại nhiều nhất ({n} lần), ví dụ {url}",
        "en": "Most repeated link pattern ({n} links), e.g. {url}",
    },
    "dry_try": {"vi": "Thử / try:  {command}", "en": "Try:  {command}"},
    "dry_in_file": {
        "vi": "Trong tệp nguồn / in the sources file:",
        "en": "In the sources file:",
    },
    "cli_listing_failed": {
        "vi": "Lỗi khi tải trang danh sách {url}: {what} ({reason}: {error})",
        "en": "Could not read the listing page {url}: {what} ({reason}: {error})",
    },
    "cli_no_source": {
        "vi": "Không có nguồn '{name}' trong {path} ({names})",
        "en": "No source '{name}' in {path} ({names})",
    },
    "cli_url_or_source": {
        "vi": "Cần URL hoặc --source TÊN",
        "en": "Give a URL or --source NAME",
    },
    "cli_bad_selector": {
        "vi": "Selector không hợp lệ: {error} (dùng key=css)",
        "en": "Invalid selector: {error} (use key=css)",
    },
    "cli_bad_day": {
        "vi": "Ngày không hợp lệ: {text} (dd/mm/yyyy)",
        "en": "Invalid date: {text} (dd/mm/yyyy)",
    },
    "backfill_bar": {
        "vi": "{source} {bar} · {articles} bài mới · {requests} yêu cầu",
        "en": "{source} {bar} · {articles} new articles · {requests} requests",
    },
    "backfill_pages": {"vi": "{done}/{limit} trang", "en": "{done}/{limit} pages"},
    "backfill_pages_open": {"vi": "{done} trang", "en": "{done} pages"},
    "backfill_failures": {"vi": " · {n} lỗi", "en": " · {n} failed"},
    "backfill_finished": {"vi": " · xong", "en": " · done"},
    "backfill_failed_page": {"vi": "  lỗi: {error}", "en": "  failed: {error}"},
    "backfill_busy": {
        "vi": "{source}: một tiến trình khác đang lấy tin cũ của nguồn này",
        "en": "{source}: another process is backfilling this source",
    },
    "backfill_stopped": {
        "vi": "{source}: {what} ({error}); chạy lại để tiếp tục",
        "en": "{source}: {what} ({error}); run again to resume",
    },
    "cli_allow_private": {
        "vi": "Nếu đây là cổng nội bộ, thêm --allow-private.",
        "en": "If this is an intranet portal, add --allow-private.",
    },
    "sources_none": {
        "vi": "Chưa nguồn nào được quét.",
        "en": "No source has been polled yet.",
    },
    "sources_title": {"vi": "Tình trạng các nguồn:", "en": "Sources:"},
    "sources_skipped": {
        "vi": "Bỏ qua {n} mục không đọc được ở lần quét cuối (lý do gần nhất: {why})",
        "en": "{n} unreadable items skipped by the last poll (latest reason: {why})",
    },
    "sources_list_title": {"vi": "Các nguồn tin:", "en": "Sources:"},
    "sources_list_none": {"vi": "Chưa có nguồn nào.", "en": "No source is configured."},
    "sources_list_hint": {
        "vi": "Nhận tin của một nguồn: /subscribe nguồn {name} (thêm chủ đề nếu muốn)",
        "en": "Alerts from one source: /subscribe source {name} (a topic may follow)",
    },
    "source_unknown": {
        "vi": "Không có nguồn “{source}”. Các nguồn:",
        "en": "There is no source “{source}”. Sources:",
    },
    "in_source": {"vi": "{topic} (nguồn {source})", "en": "{topic} (source {source})"},
    "sources_backfill": {
        "vi": "Lấy tin cũ: {pages} trang, {articles} bài, {state}",
        "en": "Backfill: {pages} pages, {articles} articles, {state}",
    },
    "backfill_running": {"vi": "đang chạy (cập nhật {at})", "en": "in progress (updated {at})"},
    "backfill_done": {"vi": "xong {at}", "en": "done {at}"},
    "sources_ambiguous": {
        "vi": "{n} ngày mơ hồ (9/12 hay 12/9?) chưa lưu: khai báo date_order",
        "en": "{n} ambiguous dates (9/12 or 12/9?) not stored: set date_order",
    },
    "sources_line": {
        "vi": "Lần thành công cuối: {ok}; lỗi liên tiếp: {fails}; số mục lần cuối: {items}",
        "en": "Last success: {ok}; failures in a row: {fails}; items last time: {items}",
    },
    "admin_only": {
        "vi": "Lệnh này chỉ dành cho quản trị viên.",
        "en": "This command is for administrators only.",
    },
    "group_admin_only": {
        "vi": "Chỉ quản trị viên của nhóm mới thay đổi được cài đặt chung của nhóm.",
        "en": "Only the group's administrators can change the group's settings.",
    },
    "error": {
        "vi": "Xin lỗi, đã có lỗi khi xử lý yêu cầu. Vui lòng thử lại sau.",
        "en": "Sorry, something went wrong. Please try again later.",
    },
    "alert_topic": {"vi": "Chủ đề: ", "en": "Topic: "},
    "alert_every": {"vi": "Tất cả tin mới", "en": "All new articles"},
    "alert_unsub": {"vi": "Hủy theo dõi chủ đề này", "en": "Unsubscribe from this topic"},
    "alert_digest": {"vi": "Bản tin ngày {day} ({n} tin)", "en": "Digest for {day} ({n} articles)"},
    "alert_cont": {
        "vi": "Bản tin ngày {day} (tiếp, {part}/{parts})",
        "en": "Digest for {day} (continued, {part}/{parts})",
    },
    "console_buttons": {
        "vi": "Gõ :số để bấm nút, ví dụ :1",
        "en": "Type :number to press a button, e.g. :1",
    },
    "zalo_choices": {
        "vi": "Trả lời bằng một số để chọn:",
        "en": "Reply with a number to choose:",
    },
    "zalo_missed": {
        "vi": "Trong thời gian bot không gửi được tin cho bạn, có {n} thông báo:",
        "en": "While the bot could not reach you, {n} alerts came:",
    },
    **{
        # Issue 11: admins, access, broadcasts, stats, sources, console.
        "admin_usage": {
            "vi": "Cách dùng: /admin add <id>, /admin remove <id>, /admin pending, /admin list",
            "en": "Usage: /admin add <id>, /admin remove <id>, /admin pending, /admin list",
        },
        "admin_bad_id": {
            "vi": "Mã người dùng phải là một số, ví dụ: /admin add 123456789",
            "en": "A user id is a number, e.g. /admin add 123456789",
        },
        "admin_added": {
            "vi": "Đã thêm quản trị viên {id}.",
            "en": "User {id} is now an admin.",
        },
        "admin_exists": {"vi": "{id} đã là quản trị viên.", "en": "{id} is already an admin."},
        "admin_removed": {
            "vi": "Đã bỏ quyền quản trị của {id}.",
            "en": "User {id} is no longer an admin.",
        },
        "admin_from_settings": {
            "vi": "{id} là quản trị viên trong TELEGRAM_ADMIN_IDS; hãy sửa cấu hình để bỏ.",
            "en": "{id} is an admin through TELEGRAM_ADMIN_IDS; change the settings to remove.",
        },
        "admin_not_admin": {
            "vi": "{id} không phải quản trị viên.",
            "en": "{id} is not an admin.",
        },
        "admin_list": {
            "vi": "Quản trị viên: {settings} (cấu hình); {stored} (thêm bằng /admin add)",
            "en": "Admins: {settings} (settings); {stored} (added with /admin add)",
        },
        "none": {"vi": "không có", "en": "none"},
        "pending_none": {
            "vi": "Không có cuộc trò chuyện nào chờ duyệt.",
            "en": "No chat is waiting for approval.",
        },
        "pending_title": {"vi": "Chờ duyệt ({n}):", "en": "Waiting for approval ({n}):"},
        "access_waiting": {
            "vi": "Cảm ơn bạn! Quản trị viên cần duyệt cuộc trò chuyện này trước khi bot "
            "trả lời và gửi tin. Bạn sẽ nhận được thông báo khi được duyệt.",
            "en": "Thank you! An administrator must approve this chat before the bot answers "
            "and sends alerts. You will be told once it is approved.",
        },
        "access_rejected": {
            "vi": "Xin lỗi, quản trị viên chưa cho phép cuộc trò chuyện này dùng bot.",
            "en": "Sorry, the administrators have not allowed this chat to use the bot.",
        },
        "access_request": {
            "vi": "Yêu cầu dùng bot mới: {who}",
            "en": "New request to use the bot: {who}",
        },
        "approve": {"vi": "✅ Duyệt", "en": "✅ Approve"},
        "reject": {"vi": "❌ Từ chối", "en": "❌ Reject"},
        "access_approved_admin": {"vi": "Đã duyệt {who}.", "en": "Approved: {who}."},
        "access_rejected_admin": {"vi": "Đã từ chối {who}.", "en": "Rejected: {who}."},
        "access_gone": {
            "vi": "Cuộc trò chuyện này không còn nữa.",
            "en": "That chat no longer exists.",
        },
        "access_approved_user": {
            "vi": "Quản trị viên đã duyệt cuộc trò chuyện này. Gõ /help để xem các lệnh.",
            "en": "An administrator approved this chat. Send /help to see the commands.",
        },
        "broadcast_preview": {
            "vi": "Xem trước thông báo gửi tới {n} cuộc trò chuyện{topic}:",
            "en": "Preview of the announcement to {n} chats{topic}:",
        },
        "broadcast_preview_topic": {
            "vi": " (chủ đề “{topic}”)",
            "en": " (topic “{topic}”)",
        },
        "broadcast_confirm": {"vi": "✅ Gửi", "en": "✅ Confirm"},
        "broadcast_cancel_button": {"vi": "✖ Hủy", "en": "✖ Cancel"},
        "broadcast_queued": {
            "vi": "Thông báo #{id} đã xếp hàng gửi tới {n} cuộc trò chuyện. "
            "Dừng: /broadcast cancel; theo dõi: /broadcast status",
            "en": "Announcement #{id} queued to {n} chats. "
            "Stop it: /broadcast cancel; follow it: /broadcast status",
        },
        "broadcast_already": {
            "vi": "Thông báo #{id} đã được xử lý rồi ({state}).",
            "en": "Announcement #{id} was already handled ({state}).",
        },
        "broadcast_discarded": {
            "vi": "Đã hủy, không gửi thông báo #{id}.",
            "en": "Announcement #{id} discarded; nothing was sent.",
        },
        "broadcast_cancelled": {
            "vi": "Đã dừng: {n} tin chưa gửi sẽ không được gửi.",
            "en": "Stopped: {n} messages not yet sent will not be sent.",
        },
        "broadcast_cancel_none": {
            "vi": "Không có thông báo nào đang gửi.",
            "en": "No announcement is being sent.",
        },
        "broadcast_status_none": {
            "vi": "Chưa có thông báo nào.",
            "en": "There are no announcements yet.",
        },
        "broadcast_status_title": {"vi": "Các thông báo gần đây:", "en": "Recent announcements:"},
        "broadcast_status_line": {
            "vi": "#{id} {when} ({state}): {text}",
            "en": "#{id} {when} ({state}): {text}",
        },
        "broadcast_counts": {
            "vi": "đã gửi {sent}, lỗi {failed}, không liên lạc được {unreachable}, còn lại {left}",
            "en": "sent {sent}, failed {failed}, unreachable {unreachable}, left {left}",
        },
        "broadcast_report": {
            "vi": "Báo cáo thông báo #{id}: {counts}.",
            "en": "Report of announcement #{id}: {counts}.",
        },
        "broadcast_progress": {
            "vi": "Thông báo #{id}: {counts}; còn khoảng {eta}.",
            "en": "Announcement #{id}: {counts}; about {eta} to go.",
        },
        "broadcast_progress_done": {
            "vi": "Thông báo #{id} đã xong: {counts}.",
            "en": "Announcement #{id} finished: {counts}.",
        },
        "seconds": {"vi": "{n} giây", "en": "{n} s"},
        "minutes": {"vi": "{n} phút", "en": "{n} min"},
        "bstate_draft": {"vi": "bản nháp", "en": "draft"},
        "bstate_confirmed": {"vi": "đang gửi", "en": "sending"},
        "bstate_cancelled": {"vi": "đã dừng", "en": "cancelled"},
        "bstate_discarded": {"vi": "đã hủy", "en": "discarded"},
        "bstate_done": {"vi": "xong", "en": "done"},
        "dstate_pending": {"vi": "chờ gửi", "en": "pending"},
        "dstate_sending": {"vi": "đang gửi", "en": "sending"},
        "dstate_sent": {"vi": "đã gửi", "en": "sent"},
        "dstate_failed": {"vi": "lỗi", "en": "failed"},
        "dstate_cancelled": {"vi": "đã hủy", "en": "cancelled"},
        "dstate_ambiguous": {"vi": "không rõ", "en": "uncertain"},
        "stats_chats_full": {
            "vi": "Cuộc trò chuyện: {active} đang nhận, {unreachable} không liên lạc được, "
            "{pending} chờ duyệt",
            "en": "Chats: {active} active, {unreachable} unreachable, {pending} pending approval",
        },
        "stats_subscriptions": {"vi": "Đăng ký theo chủ đề: {n}", "en": "Subscriptions: {n}"},
        "stats_articles_full": {
            "vi": "Bài viết: {n}; mới trong 24 giờ (theo lúc thấy lần đầu): {new}",
            "en": "Articles: {n}; new in the last 24 hours (first seen): {new}",
        },
        "stats_queue": {"vi": "Hàng đợi {platform}: {states}", "en": "Queue {platform}: {states}"},
        "stats_queue_empty": {"vi": "Hàng đợi: trống", "en": "Queue: empty"},
        "stats_last_hour": {
            "vi": "Gửi trong 1 giờ qua: {states}",
            "en": "Deliveries in the last hour: {states}",
        },
        "stats_sources": {
            "vi": "Nguồn: {ok} hoạt động tốt, {bad} có lỗi",
            "en": "Sources: {ok} healthy, {bad} failing",
        },
        "sources_error": {
            "vi": "Lỗi lúc {when}: {why}",
            "en": "Error at {when}: {why}",
        },
        "alarm_failing": {
            "vi": "⚠️ Nguồn “{source}” lỗi {n} lần liên tiếp: {why}. Xem /sources",
            "en": "⚠️ Source “{source}” failed {n} polls in a row: {why}. See /sources",
        },
        "alarm_layout": {
            "vi": "⚠️ Nguồn “{source}”: bố cục trang đã thay đổi (không còn thấy bài viết "
            "nào, trước đây vẫn có). Xem /sources",
            "en": "⚠️ Source “{source}”: the page layout changed (no articles where there "
            "used to be some). See /sources",
        },
        "alarm_recovered": {
            "vi": "✅ Nguồn “{source}” đã hoạt động trở lại.",
            "en": "✅ Source “{source}” works again.",
        },
        "no_articles_why": {
            "vi": "Chưa có bài viết nào: lần quét gần nhất của nguồn “{source}” bị lỗi ({why}). "
            "Xem /sources",
            "en": "There are no articles yet: the last poll of “{source}” failed ({why}). "
            "See /sources",
        },
        "no_articles_unpolled": {
            "vi": "Chưa có bài viết nào: các nguồn chưa được quét lần nào. "
            "Hãy thử lại sau ít phút.",
            "en": "There are no articles yet: no source has been polled yet. "
            "Try again in a few minutes.",
        },
        "date_no_month": {
            "vi": "Tháng này không có trên lịch (tháng từ 1 đến 12). Ví dụ: /date {example}",
            "en": "That month does not exist (months are 1 to 12). Example: /date {example}",
        },
        "console_no_button": {
            "vi": "Không có nút :{n}. Các nút là số trong [:1], [:2]… ở tin trước.",
            "en": "There is no button :{n}. Buttons are the numbers in [:1], [:2]… above.",
        },
        "console_no_buttons": {
            "vi": "Tin trước không có nút nào để bấm.",
            "en": "The last answer has no buttons to press.",
        },
        "console_banner": {
            "vi": "Bạn đang dùng bot với tư cách người dùng {id} ({role}).",
            "en": "You are using the bot as user {id} ({role}).",
        },
        "console_admin": {"vi": "quản trị viên", "en": "admin"},
        "console_not_admin": {
            "vi": "không phải quản trị viên; dùng `chat --as <id>` với một id trong "
            "TELEGRAM_ADMIN_IDS để quản trị",
            "en": "not an admin; use `chat --as <id>` with an id in TELEGRAM_ADMIN_IDS "
            "to act as an admin",
        },
    },
}

# Printed once at start-up in both languages: the terminal's reader has not chosen one yet.
NO_TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN chưa được đặt: đang chạy bot trong cửa sổ dòng lệnh.\n"
    "Để chạy trên Telegram: tạo bot với @BotFather, ghi TELEGRAM_BOT_TOKEN=<token> vào tệp "
    ".env (xem .env.example) rồi chạy lại `make run`.\n"
    "No TELEGRAM_BOT_TOKEN: the bot runs in this terminal. Put TELEGRAM_BOT_TOKEN=<token> "
    "(from @BotFather) in .env and run `make run` again."
)
CANNOT_START = "Không khởi động được bot / cannot start the bot: {why}"
INVALID_CONFIGURATION = "Cấu hình không hợp lệ / Invalid configuration: {why}"
DATABASE_UP_TO_DATE = "Cơ sở dữ liệu đã cập nhật / database is up to date"

# Why a source failed, for admins (keys are jobs.ingest.errors codes).
REASONS: dict[str, dict[str, str]] = {
    "source_error": {"vi": "không đọc được nguồn", "en": "cannot read the source"},
    "fetch_error": {"vi": "không tải được nguồn", "en": "cannot download the source"},
    "timeout": {"vi": "quá thời gian chờ", "en": "timed out"},
    "too_large": {"vi": "nội dung vượt giới hạn dung lượng", "en": "content over the size limit"},
    "blocked_address": {
        "vi": "địa chỉ nội bộ hoặc cục bộ bị chặn",
        "en": "private or local address refused",
    },
    "too_many_redirects": {"vi": "chuyển hướng quá nhiều lần", "en": "too many redirects"},
    "network": {"vi": "lỗi mạng", "en": "network error"},
    "protocol_error": {
        "vi": "máy chủ trả lời sai giao thức HTTP",
        "en": "the server broke the HTTP protocol",
    },
    "decoding": {"vi": "không giải mã được nội dung", "en": "cannot decode the content"},
    "dns": {"vi": "không phân giải được tên miền", "en": "cannot resolve the host name"},
    "bad_url": {"vi": "địa chỉ URL không hợp lệ", "en": "invalid URL"},
    "bad_redirect": {
        "vi": "chuyển hướng tới địa chỉ không hợp lệ",
        "en": "redirect to an invalid address",
    },
    "parse_error": {"vi": "không phân tích được nội dung", "en": "cannot parse the content"},
    "unsafe_document": {
        "vi": "tài liệu không an toàn (DTD/entity)",
        "en": "unsafe document (DTD/entity)",
    },
    "not_a_feed": {"vi": "không phải RSS/Atom", "en": "not RSS/Atom"},
    "layout_changed": {
        "vi": "bố cục trang đã thay đổi (không thấy bài viết)",
        "en": "the page layout changed (no articles found)",
    },
}


def describe_reason(reason: str, lang: str) -> str:
    """A source's failure reason (a jobs.ingest.errors code) in words; unknown: as it is."""
    if reason.startswith("http_") and reason[5:].isdigit():
        return t(lang, "cli_reason_http", code=reason[5:])
    words = REASONS.get(reason)
    return words.get(lang, words[DEFAULT_LANG]) if words else reason


ALERT_KEYS = ("topic", "every", "unsub", "digest", "cont")


def alert_words(language: str | None) -> dict[str, str]:
    """The words of alerts and digests (jobs.delivery.alerts) in a chat's language, unfilled."""
    lang = pick_language(language, None)
    return {key: MESSAGES[f"alert_{key}"][lang] for key in ALERT_KEYS}
