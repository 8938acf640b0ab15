"""No secret is shown, whatever characters it holds and however a library accepts it in a URL.

The oracle is independent of the masker: no 4-character piece of the raw secret (or of its
percent-encodings) may appear in what is shown (:func:`tests.helpers.shown_pieces`). A piece
that the same text would show with a dummy secret in its place is not the secret's, so such
examples are set aside (``assume``) rather than counted as leaks.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from boxscore.masking import Masker
from tasks import ServiceUnavailable, reaching
from tasks.masking import shown
from tasks.settings import Settings
from tests.helpers import secret_pieces, shown_pieces

#: what breaks hand-written URL and ODBC handling: braces, '@', '/', ':', '%', '&', '|', ';', '#',
#: spaces, quotes and non-ASCII
ALPHABET = string.ascii_letters + string.digits + "{}@/:%&|;# ?=+-_.!~*'()\"\\éß€"
PASSWORDS = st.builds(lambda middle: f"Zq{middle}9", st.text(alphabet=ALPHABET, min_size=4, max_size=16))
DUMMY = "Dummy0pass"


def sql_url(password: str) -> str:
    """As SQLAlchemy accepts it: raw, but for '%' and '@', which it decodes."""
    return f"postgresql+psycopg://app:{password.replace('%', '%25').replace('@', '%40')}@db:5432/sidearmdb"


def odbc_url(password: str) -> str:
    """The usual way to reach SQL Server through pyodbc: the ODBC string in odbc_connect, '}' doubled."""
    escaped = password.replace("}", "}}")
    odbc = f"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER=mssql;UID=sa;PWD={{{escaped}}};Encrypt=no"
    return f"mssql+pyodbc:///?odbc_connect={quote_plus(odbc)}"


def mongo_url(password: str) -> str:
    return f"mongodb://app:{quote_plus(password)}@mongo:27017/?authSource=admin"


def endpoint_url(password: str) -> str:
    return f"http://sidearm:{quote(password, safe='')}@minio:9000"


def assert_hidden(password: str, show: Callable[[str], str]) -> None:
    """``show(password)`` shows no piece of it that ``show(DUMMY)`` does not show anyway."""
    assume(not shown_pieces(password, show(DUMMY)))
    text = show(password)
    assert not shown_pieces(password, text), (password, text)


@settings(max_examples=200, deadline=None)
@given(PASSWORDS, PASSWORDS, PASSWORDS, PASSWORDS)
def test_describe_and_shown_urls_hide_every_password(sql: str, odbc: str, mongo: str, s3: str) -> None:
    for url, password in ((sql_url, sql), (odbc_url, odbc), (mongo_url, mongo)):
        assert_hidden(password, lambda p, url=url: shown(url(p)))
        assert shown(url(password)).count("***") >= 1

    def described(sql: str, mongo: str, s3: str) -> str:
        environ = {"SQL_URL": sql_url(sql), "MONGO_URL": mongo_url(mongo), "S3_ENDPOINT_URL": endpoint_url(s3)}
        settings = Settings.from_env({**environ, "S3_SECRET_KEY": s3}, env_file="")
        return settings.describe() + repr(settings)

    assert_hidden(sql, lambda p: described(p, mongo, s3))
    assert_hidden(mongo, lambda p: described(sql, p, s3))
    assert_hidden(s3, lambda p: described(sql, mongo, p))


@settings(max_examples=200, deadline=None)
@given(PASSWORDS, PASSWORDS)
def test_passwords_beside_their_urls_go_in_whole_and_are_never_shown(mongo: str, sql: str) -> None:
    """MONGO_PASSWORD and SQL_PASSWORD reach their URLs as the drivers decode them, and stay hidden."""
    from pymongo import uri_parser
    from sqlalchemy.engine import make_url

    def settings_of(mongo: str, sql: str) -> Settings:
        environ = {
            "MONGO_URL": "mongodb://app@mongo:27017/?authSource=admin",
            "MONGO_PASSWORD": mongo,
            "SQL_URL": "mssql+pyodbc://sa@mssql:1433/sidearmdb?driver=ODBC+Driver+18+for+SQL+Server",
            "SQL_PASSWORD": sql,
        }
        return Settings.from_env(environ, env_file="")

    chosen = settings_of(mongo, sql)
    assert uri_parser.parse_uri(chosen.mongo_url)["password"] == mongo
    assert make_url(chosen.sql_url).password == sql
    assert make_url(chosen.sql_url).query["driver"] == "ODBC Driver 18 for SQL Server"
    assert_hidden(mongo, lambda p: settings_of(p, sql).describe())
    assert_hidden(sql, lambda p: settings_of(mongo, p).describe())


@settings(max_examples=100, deadline=None)
@given(PASSWORDS)
def test_a_driver_error_quoting_the_url_is_masked_by_name(password: str) -> None:
    def message(password: str) -> str:
        url = odbc_url(password)
        escaped = password.replace("}", "}}")
        with pytest.raises(ServiceUnavailable) as failure, reaching("SQL database", url, (OperationalError,)):
            raise OperationalError(f"connect failed: {url} / PWD={{{escaped}}};", None, Exception("refused"))
        return str(failure.value)

    assert message(password).startswith("SQL database at mssql+pyodbc:///?odbc_connect=")
    assert_hidden(password, message)


def test_a_braced_odbc_password_is_masked_whole() -> None:
    """``PWD={Zqab}}cd9}`` is the password ``Zqab}cd9``: none of its tail may be left."""
    text = "DRIVER={ODBC Driver 18 for SQL Server};UID=sa;PWD={Zqab}}cd9};Encrypt=no"
    masked = shown(f"mssql+pyodbc:///?odbc_connect={quote_plus(text)}")
    assert not shown_pieces("Zqab}cd9", masked), masked
    assert "cd9" not in masked


def test_the_oracle_finds_a_secret_shown_in_part() -> None:
    """The oracle itself: a shown tail or a half-encoded secret is found."""
    assert shown_pieces("Zqab}cd9", "PWD={***}}cd9}") == {"}cd9"}
    assert shown_pieces("p@ss/word", "p%40ss%2F***")
    assert "%40s" in secret_pieces("p@ss")


@pytest.mark.parametrize(
    ("text", "shown_as"),
    [
        ("postgresql://u:pa/ss word@h/db", "postgresql://u:***@h/db"),
        ("see DRIVER={x};PWD=hunter2;UID=sa", "see DRIVER={x};PWD=***;UID=sa"),
        ("mongodb://app:p%40ss@db", "mongodb://app:***@db"),
        ("DRIVER={x};PWD={a}}b;c};UID=sa", "DRIVER={x};PWD={***};UID=sa"),
    ],
)
def test_named_examples(text: str, shown_as: str) -> None:
    secrets = {"pa/ss word", "hunter2", "p@ss", "a}b;c"}
    assert Masker.of(secrets)(text) == shown_as


@pytest.mark.parametrize(
    ("secret", "forms"),
    [
        # raw and JSON-escaped ('"' -> '\"'), each raw and as quote / quote(safe='') / quote_plus /
        # quote_plus(safe='/') write it ('/' kept or %2F, ' ' as %20 or +), worked out by hand
        (
            'Zq/ "9',
            {
                'Zq/ "9', "Zq%2F%20%229", "Zq/%20%229", "Zq%2F+%229", "Zq/+%229",
                'Zq/ \\"9', "Zq%2F%20%5C%229", "Zq/%20%5C%229", "Zq%2F+%5C%229", "Zq/+%5C%229",
            },
        ),
        # DEL: raw, JSON's \u007f and repr's \x7f, each percent-encoded once (no '/' or ' ')
        ("Zq\x7f9", {"Zq\x7f9", "Zq%7F9", "Zq\\u007f9", "Zq%5Cu007f9", "Zq\\x7f9", "Zq%5Cx7f9"}),
        # ODBC doubles '}'
        ("a}b", {"a}b", "a%7Db", "a}}b", "a%7D%7Db"}),
    ],
)  # fmt: skip
def test_the_forms_of_a_secret_are_exactly_these(secret: str, forms: set[str]) -> None:
    from boxscore.masking import secret_forms

    assert secret_forms(secret) == forms


def test_an_odbc_value_is_unquoted_only_when_braced_at_both_ends() -> None:
    from boxscore.masking import keyed_passwords, odbc_value

    assert odbc_value(" {a}}b} ") == "a}b"
    assert odbc_value("{ab") == "{ab" and odbc_value("ab}") == "ab}" and odbc_value("ab") == "ab"
    assert keyed_passwords("UID=sa;PWD=;Encrypt=no") == set()
    assert keyed_passwords("UID=sa;PWD={x}};y};password = z&k=1") == {"x};y", "z"}


def test_the_longest_url_and_the_longest_form_are_replaced_first() -> None:
    """'ab' holds 'b': replacing 'b' first would leave the 'a' of a secret shown."""
    assert Masker.of([], {"b": "B", "ab": "AB"})("ab, b") == "AB, B"
    assert Masker.of(["b", "ab"])("xab") == "x***"


def test_a_reason_is_cut_at_the_last_word_end_before_300_characters() -> None:
    from boxscore.masking import error_reason

    exactly = "w" * 299 + "."
    assert error_reason(ValueError(exactly)) == exactly
    words = "a " * 140 + "bb\t" + "c" * 30  # 313 characters; the first 296 end inside the c's
    assert error_reason(ValueError(words)) == "a " * 140 + "bb ..."  # a tab ends a word too
    assert error_reason(ValueError("x" * 400)) == "x" * 296 + " ..."
    assert error_reason(ValueError(" " * 400 + "x")) == " ..."
