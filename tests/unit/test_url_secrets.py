"""The secret each kind of URL carries, as the library that reads it would send it, and the URL as
it may be shown; every expectation worked out by hand from the libraries' rules (pymongo decodes
percent-escapes, ``urlsplit`` does not, SQLAlchemy decodes its userinfo)."""

from __future__ import annotations

import pytest

from tasks.masking import masker, shown, split_userinfo, url_secrets
from tasks.settings import with_password


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("mongodb://app:p%40ss%3Aw@db:27017/?authSource=admin", {"p@ss:w"}),  # pymongo decodes
        ("mongodb://app:pw@db1:27017,db2:27017/sidearm", {"pw"}),
        ("mongodb://db:27017/", set()),
        ("mongodb://app@db:27017/", set()),
        # what pymongo refuses (an unescaped '@', a port that is no number): the userinfo as written
        ("mongodb://app:p@w@db:27017/", {"p@w"}),
        ("mongodb://app:a:b@db:port/", {"a:b"}),
        ("mongodb://app@db:port/", set()),
        ("mongodb://db:port/", set()),
        ("mongodb://app:p%40w@db/?notAnOption=1", {"p@w"}),  # options pymongo does not know: still parsed
        ("mongodb://app:p@w@db/?to=http://x", {"p@w"}),  # a second '://' in the query
        ("http://key:se%2Fcret@s3:8333", {"se%2Fcret"}),  # urlsplit leaves escapes as written
        ("https://key:se%2Fcret@s3.example.com/", {"se%2Fcret"}),
        ("http://s3:8333", set()),
        ("http://key:pw@[::1/", set()),  # urlsplit refuses it
        ("postgresql+psycopg://u:p%2Fw@h:5432/db", {"p/w"}),  # SQLAlchemy decodes
        ("mssql+pyodbc://u:pw@h/db?odbc_connect=PWD%3Dq", {"pw", "q"}),
        ("mssql+pyodbc://u@h/db?a=PWD%3Dx&a=PWD%3Dy", {"x", "y"}),  # a key given twice
        ("sqlite:///sidearmdb.sqlite", set()),
        ("Driver={ODBC Driver 18};Server=h;PWD=odbc-pw;", {"odbc-pw"}),  # no URL at all: its keys
    ],
)
def test_each_url_s_secret_is_what_its_library_would_send(url: str, secrets: set[str]) -> None:
    assert url_secrets(url) == secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mongodb://app:p%40ss@db:27017/sidearm?authSource=admin",
            "mongodb://app:***@db:27017/sidearm?authSource=admin",
        ),
        ("mongodb://app:@db/", "mongodb://app:***@db/"),  # an empty password still shows as one
        ("mongodb://app@db/", "mongodb://app@db/"),
        ("mongodb://db/?authSource=a", "mongodb://db/?authSource=a"),
        ("mongodb://app:a:b@db/", "mongodb://app:***@db/"),
        # an empty password where SQLAlchemy could not parse the URL (several hosts, a port that is no number)
        ("mongodb://app:@db1:1,db2:2/", "mongodb://app:***@db1:1,db2:2/"),
        # a password partly escaped, with a space (which no pattern of a URL's userinfo takes in)
        ("mongodb://app:a%25 b@db/", "mongodb://app:***@db/"),
        ("mongodb://app:a%25 b:c@db/", "mongodb://app:***@db/"),
        ("mongodb+srv://app:@cluster:x/", "mongodb+srv://app:***@cluster:x/"),
        ("http://key:@s3:x/", "http://key:***@s3:x/"),
        ("https://key:@s3:x/", "https://key:***@s3:x/"),
        ("http://key:@s3:8333/", "http://key:***@s3:8333/"),
        ("https://key:@s3.example.com", "https://key:***@s3.example.com"),
        ("postgresql+psycopg://u:pw@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        ("not a url", "not a url"),
    ],
)
def test_a_url_is_shown_with_its_password_masked_and_nothing_else_changed(url: str, expected: str) -> None:
    assert shown(url) == expected


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("mongodb://app:pw@db:27017/x?y=1", ("mongodb", "app:pw", "db:27017", "/x?y=1")),
        ("mongodb://app:p@w@db?x=/", ("mongodb", "app:p@w", "db", "?x=/")),  # the last '@' before '/' or '?'
        ("mongodb://app:pw@db/a/b?c", ("mongodb", "app:pw", "db", "/a/b?c")),
        ("http://k:s@h?a=b/c", ("http", "k:s", "h", "?a=b/c")),
        ("mongodb://app:pw@db", ("mongodb", "app:pw", "db", "")),
        ("mongodb://db/x@y", None),  # the '@' after the path is not userinfo
        ("mongodb:///db@x", None),  # no host at all
        ("mongodb://app:pw@db?x=a@b?c", ("mongodb", "app:pw", "db", "?x=a@b?c")),  # up to the first '?'
        ("mongodb://app:pw@db/?to=http://x", ("mongodb", "app:pw", "db", "/?to=http://x")),
        ("mongodb://db:27017", None),
    ],
)
def test_a_url_s_userinfo_ends_at_the_last_at_before_its_path_or_query(url: str, parts: object) -> None:
    assert split_userinfo(url) == parts


def test_a_masker_shows_a_quoted_url_in_its_shown_form_and_masks_each_secret_alone() -> None:
    url = "postgresql+psycopg://u:a%40b c@h/db"  # a password with a space, its '@' escaped: "a@b c"
    mask = masker(url, "", secrets=("s3-secret",))
    assert mask(f"cannot reach {url} now") == "cannot reach postgresql+psycopg://u:***@h/db now"
    assert (
        mask("the password a@b c and the key s3-secret were refused") == "the password *** and the key *** were refused"
    )


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        ("mongodb://app@db:27017/sidearm", "p@ss:w/d", "mongodb://app:p%40ss%3Aw%2Fd@db:27017/sidearm"),
        ("mongodb://app:old@db/", "new", "mongodb://app:new@db/"),
        (
            "mongodb+srv://app@cluster.example.net/?tls=true",
            "a b",
            "mongodb+srv://app:a%20b@cluster.example.net/?tls=true",
        ),
        ("http://key@s3:8333", "k/e y", "http://key:k%2Fe%20y@s3:8333"),
        ("https://key@s3.example.com", "k y", "https://key:k%20y@s3.example.com"),
        ("postgresql+psycopg://u@h:5432/db", "p@ss/w", "postgresql+psycopg://u:p%40ss%2Fw@h:5432/db"),
    ],
)
def test_a_password_given_beside_its_url_goes_in_as_the_url_s_reader_decodes_it(
    url: str, password: str, expected: str
) -> None:
    assert with_password(url, password) == expected


@pytest.mark.parametrize("url", ["mongodb://db:27017/", "http://s3:8333", "mongodb+srv://cluster.example.net/"])
def test_a_password_for_a_url_that_names_no_user_is_refused_showing_the_url(url: str) -> None:
    with pytest.raises(ValueError, match=r"^a password is given for .+, which names no user \(user@host\)$") as refused:
        with_password(url, "pw")
    assert url.split("//")[1].split("/")[0] in str(refused.value)
