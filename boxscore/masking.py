"""Masking secrets in text that may be shown: URLs with a password, and error messages.

Pure string functions, so the rule for what may be printed has one owner and is tested without
any service; the adapters in ``tasks/`` apply it to every message that names a service.
"""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^/:@\s]*:)[^@/\s]*@", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host``; other text unchanged."""
    return _URL_PASSWORD.sub(r"\g<head>***@", url)


def error_reason(error: BaseException) -> str:
    """The first line of an error's message, passwords in URLs masked, at most 300 characters."""
    text = str(error)
    return redact_url(text.splitlines()[0] if text else "")[:300]
