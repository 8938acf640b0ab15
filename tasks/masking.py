"""The secrets in our settings' URLs, found with the libraries' own parsers.

SQLAlchemy accepts a raw ``/``, ``;`` or space in a password, and an ODBC string carries
``PWD=`` in a query parameter; pymongo decodes percent-escapes. A regex over the URL text misses
some of these, so each URL is parsed by the library that will use it, and the password it would
send is what gets masked (:class:`boxscore.masking.Masker`), in every form it may be written.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit

from pymongo import uri_parser
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from boxscore.masking import Masker, keyed_passwords

#: URLs pymongo reads
MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")
#: URLs an HTTP client reads (an S3 endpoint)
HTTP_SCHEMES = ("http://", "https://")
#: URLs whose userinfo is ``user:password`` with every reserved character percent-escaped;
#: any other URL is SQLAlchemy's
USERINFO_SCHEMES = MONGO_SCHEMES + HTTP_SCHEMES


def sql_url_secrets(url: str) -> set[str]:
    """The password SQLAlchemy would use, and any ``PWD=``/``password=`` in the query (ODBC)."""
    secrets = keyed_passwords(unquote_plus(url))
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return secrets
    if parsed.password:
        secrets.add(str(parsed.password))
    for value in parsed.query.values():
        for item in (value,) if isinstance(value, str) else value:
            secrets |= keyed_passwords(item)
    return secrets


def mongo_url_secrets(url: str) -> set[str]:
    """The password pymongo would use (it decodes the URI's escapes)."""
    try:
        # options are not checked (a URL pymongo would warn about still has its password masked);
        # a mongodb+srv:// URL's DNS lookup is given a second, not pymongo's 20
        parsed = uri_parser.parse_uri(url, validate=False, connect_timeout=1)
    except Exception:  # noqa: BLE001 - an unparsable URI: fall back to its userinfo as written
        userinfo = url.partition("://")[2].rpartition("@")[0]
        return {userinfo.partition(":")[2]} - {""}
    return {parsed["password"]} if parsed.get("password") else set()


def http_url_secrets(url: str) -> set[str]:
    """The password in an endpoint URL's userinfo (``http://user:pw@host``)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return set()
    return {password} if password else set()


def url_secrets(url: str) -> set[str]:
    """The secrets of any URL we configure, by the library that reads that kind of URL."""
    if url.startswith(MONGO_SCHEMES):
        return mongo_url_secrets(url)
    if url.startswith(HTTP_SCHEMES):
        return http_url_secrets(url)
    return sql_url_secrets(url)


def masker(*urls: str, secrets: tuple[str, ...] = ()) -> Masker:
    """A masker for these URLs (as written and by their secrets) and any other secret values."""
    found = {secret for url in urls if url for secret in url_secrets(url)}
    return Masker.of(found | set(secrets), {url: shown(url) for url in urls if url})


def shown(url: str) -> str:
    """The URL as it may be shown, rendered again by the library that reads it, password masked."""
    secrets = Masker.of(url_secrets(url))
    if url.startswith(USERINFO_SCHEMES):
        return secrets(_without_userinfo_password(url))
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        rendered = url
    return secrets(rendered)


def split_userinfo(url: str) -> tuple[str, str, str, str] | None:
    """``scheme://userinfo@hosts/rest`` -> ``(scheme, userinfo, hosts, /rest)``; ``None`` without userinfo.

    pymongo and HTTP clients require '/', '?', '@' and ':' in a password to be percent-escaped,
    so the userinfo is everything before the last '@' ahead of the first '/' or '?'.
    """
    scheme, _, rest = url.partition("://")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, hosts = rest[:end].rpartition("@")
    return (scheme, userinfo, hosts, rest[end:]) if at else None


def _without_userinfo_password(url: str) -> str:
    """``scheme://user:anything@hosts...`` -> ``scheme://user:***@hosts...``."""
    parts = split_userinfo(url)
    if parts is None or ":" not in parts[1]:
        return url
    scheme, userinfo, hosts, rest = parts
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{hosts}{rest}"
