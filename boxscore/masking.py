"""Masking secrets in text that may be shown: the known secrets, in every form a URL may hold them.

A :class:`Masker` knows the secret values (the adapters find them with the libraries' own URL
parsers: SQLAlchemy, pymongo) and replaces each, raw or percent-encoded, wherever it appears:
in a URL, an ODBC string or a driver's error message. :func:`redact_url` is the fallback for a
URL whose secret is not known: ``scheme://user:secret@host`` -> ``scheme://user:***@host``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^/:@\s]*:)[^@\s]*@", re.IGNORECASE)
#: ``PWD=...`` / ``password=...`` in an ODBC connection string or a URL query: ``{...}`` quoted (a
#: ``}`` inside is written ``}}``, as ODBC escapes it) or up to ``;``/``&``
_KEYED_PASSWORD = re.compile(r"(?i)\b(?:pwd|password)\s*=\s*(\{(?:[^}]|\}\})*\}|[^;&]*)")


def secret_forms(secret: str) -> set[str]:
    """The secret as it may be written: raw, ODBC-quoted (``}`` doubled), JSON- and repr-escaped,
    and each of those percent-encoded the ways URLs and queries encode it."""
    written = {secret, secret.replace("}", "}}"), json.dumps(secret)[1:-1], repr(secret)[1:-1]}
    forms = {
        encoded
        for form in written
        for encoded in (form, quote(form, safe=""), quote(form), quote_plus(form), quote_plus(form, safe="/"))
    }
    return {form for form in forms if form}


def odbc_value(value: str) -> str:
    """An ODBC attribute value as the driver reads it: ``{a}}b}`` -> ``a}b``; unquoted as it stands."""
    value = value.strip()
    if value.startswith("{") and value.endswith("}"):
        return value[1:-1].replace("}}", "}")
    return value


def keyed_passwords(text: str) -> set[str]:
    """The values of ``PWD=`` and ``password=`` keys (ODBC strings, URL queries), as the driver reads them."""
    return {odbc_value(value) for value in _KEYED_PASSWORD.findall(text)} - {""}


@dataclass(frozen=True)
class Masker:
    """Replaces each configured URL by its shown form, then every known secret in each of its forms.

    ``urls`` maps a URL as configured to the URL as it may be shown, so a message that quotes the
    URL is masked however the password was written in it (raw, or partly percent-encoded).
    """

    forms: tuple[str, ...] = ()
    urls: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, secrets: Iterable[str], urls: Mapping[str, str] | None = None) -> Masker:
        forms = {form for secret in secrets if secret for form in secret_forms(secret)}
        shown = sorted((urls or {}).items(), key=lambda pair: len(pair[0]), reverse=True)
        return cls(tuple(sorted(forms, key=len, reverse=True)), tuple(shown))

    def __call__(self, text: str) -> str:
        for url, shown in self.urls:
            text = text.replace(url, shown)
        for form in self.forms:
            text = text.replace(form, MASK)
        return redact_url(text)


def redact_url(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host``; other text unchanged."""
    return _URL_PASSWORD.sub(rf"\g<head>{MASK}@", url)


#: the longest reason shown: a driver's message can run to pages (pymongo's topology, say)
REASON_CHARS = 300


def error_reason(error: BaseException, mask: Masker | None = None) -> str:
    """The first line of an error's message with secrets masked, at most 300 characters,
    shortened at a word's end (with " ...") so that no word is shown cut off; a single word
    longer than that is cut where the limit falls."""
    text = str(error)
    first = (mask or Masker())(text.splitlines()[0] if text else "")
    if len(first) <= REASON_CHARS:
        return first
    words = first[: REASON_CHARS - 4].rsplit(maxsplit=1)  # [] when the first 296 are blanks
    return (words[0] if words else "") + " ..."


def described(error: BaseException) -> str:
    """``Type: first line of the message``: how a failure is named in notices and from workers."""
    return f"{type(error).__name__}: {error_reason(error)}"
