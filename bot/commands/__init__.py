"""Channel-neutral command logic: `handle(services, Request) -> Reply | None`."""

from bot.commands.base import Request, Services
from bot.commands.paging import is_paging
from bot.commands.router import ADMIN_COMMANDS, COMMANDS, Pressed, handle, press

__all__ = [
    "ADMIN_COMMANDS",
    "COMMANDS",
    "Pressed",
    "Request",
    "Services",
    "handle",
    "is_paging",
    "press",
]
