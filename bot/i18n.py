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
        {"vi": "Nhận tin theo chủ đề (bỏ trống: mọi tin)", "en": "Alerts for a topic (none: all)"},
    ),
    ("unsubscribe", "all", {"vi": "Bỏ theo dõi chủ đề", "en": "Stop alerts for a topic"}),
    ("subscriptions", "", {"vi": "Các chủ đề đang theo dõi", "en": "Your topics"}),
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

# Shown in /help to admins only, never in the public command menu.
ADMIN_COMMANDS: list[tuple[str, str, dict[str, str]]] = [
    (
        "broadcast",
        "[dân chủ] Nội dung thông báo",
        {"vi": "Gửi thông báo (mọi người hoặc một chủ đề)", "en": "Announce (all or a topic)"},
    ),
    ("stats", "", {"vi": "Thống kê", "en": "Statistics"}),
    ("sources", "", {"vi": "Tình trạng các nguồn", "en": "Health of each source"}),
]

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
    "sources_none": {
        "vi": "Chưa nguồn nào được quét.",
        "en": "No source has been polled yet.",
    },
    "sources_title": {"vi": "Tình trạng các nguồn:", "en": "Sources:"},
    "sources_line": {
        "vi": "Lần thành công cuối: {ok}; lỗi liên tiếp: {fails}; số mục lần cuối: {items}",
        "en": "Last success: {ok}; failures in a row: {fails}; items last time: {items}",
    },
    "admin_only": {
        "vi": "Lệnh này chỉ dành cho quản trị viên.",
        "en": "This command is for administrators only.",
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
        "vi": "địa chỉ nội bộ bị chặn (thêm allow_private nếu là cổng nội bộ)",
        "en": "private address refused (add allow_private for an intranet portal)",
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


ALERT_KEYS = ("topic", "every", "unsub", "digest", "cont")


def alert_words(language: str | None) -> dict[str, str]:
    """The words of alerts and digests (jobs.delivery.alerts) in a chat's language, unfilled."""
    lang = pick_language(language, None)
    return {key: MESSAGES[f"alert_{key}"][lang] for key in ALERT_KEYS}
