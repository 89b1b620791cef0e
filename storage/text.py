"""Vietnamese text normalisation and folding, shared by storage, search and matching."""

from __future__ import annotations

import re
import unicodedata

# U+00D0 (Icelandic eth) is routinely typed for U+0110 (Vietnamese Đ) on old portals.
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
_SPACE = re.compile(r"\s+")
# What PostgreSQL (NUL), UTF-8 encoders (lone surrogates) or the Bot API refuse (C0 controls
# other than tab and newlines, DEL, U+FFFE/U+FFFF): dropped, surrogates become U+FFFD.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_WORD = re.compile(r"[^\w]+")


def storable(text: str) -> str:
    """The text without the characters a database, an encoder or the Bot API refuses.

    The one cleaning rule: every parsed value and every user's text passes through it
    (normalize() applies it) before it is stored or sent.
    """
    return _SURROGATE.sub("\ufffd", _REFUSED.sub("", text))


def normalize(text: str) -> str:
    """Storable, NFC, eth look-alikes mapped to Đ/đ, &nbsp; and runs of white space collapsed."""
    text = unicodedata.normalize("NFC", storable(text).translate(_LOOKALIKES))
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def fold(text: str) -> str:
    """Search key: NFC, casefold, đ to d, NFD, combining marks dropped."""
    text = unicodedata.normalize("NFC", text.translate(_LOOKALIKES)).casefold()
    text = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def fold_words(text: str) -> str:
    """Folded text with punctuation turned into single spaces (syllable boundaries kept)."""
    return _NON_WORD.sub(" ", fold(text)).strip()
