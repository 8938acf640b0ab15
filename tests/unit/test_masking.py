"""No secret is shown, whatever characters it holds and however a library accepts it in a URL."""

from __future__ import annotations

import string
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from boxscore.masking import Masker, secret_forms
from tasks import ServiceUnavailable, reaching
from tasks.masking import shown
from tasks.settings import Settings

#: passwords with what breaks a hand-written URL regex: '/', ';', spaces, '@', ':', '%', '?', '#'
PASSWORDS = st.builds(
    lambda middle: f"Zq{middle}9",
    st.text(alphabet=string.ascii_letters + string.digits + "/;: @%?#&=+-_.!~*'()", min_size=4, max_size=16),
)


def sql_url(password: str) -> str:
    """As SQLAlchemy accepts it: raw, but for '%' and '@', which it decodes."""
    return f"postgresql+psycopg://app:{password.replace('%', '%25').replace('@', '%40')}@db:5432/sidearmdb"


def odbc_url(password: str) -> str:
    """The usual way to reach SQL Server through pyodbc: the ODBC string in odbc_connect."""
    odbc = f"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER=mssql;UID=sa;PWD={{{password}}};Encrypt=no"
    return f"mssql+pyodbc:///?odbc_connect={quote_plus(odbc)}"


def mongo_url(password: str) -> str:
    return f"mongodb://app:{quote_plus(password)}@mongo:27017/?authSource=admin"


def endpoint_url(password: str) -> str:
    return f"http://sidearm:{quote(password, safe='')}@minio:9000"


def assert_hidden(password: str, text: str) -> None:
    for form in secret_forms(password):
        assert form not in text, (form, text)


@settings(max_examples=200, deadline=None)
@given(PASSWORDS, PASSWORDS, PASSWORDS, PASSWORDS)
def test_describe_and_shown_urls_hide_every_password(sql: str, odbc: str, mongo: str, s3: str) -> None:
    for url, password in ((sql_url(sql), sql), (odbc_url(odbc), odbc), (mongo_url(mongo), mongo)):
        assert_hidden(password, shown(url))
        assert shown(url).count("***") >= 1
    environ = {
        "SQL_URL": sql_url(sql),
        "MONGO_URL": mongo_url(mongo),
        "S3_ENDPOINT_URL": endpoint_url(s3),
        "S3_SECRET_KEY": s3,
    }
    described = Settings.from_env(environ, env_file="").describe()
    for password in (sql, mongo, s3):
        assert_hidden(password, described)
    assert_hidden(s3, repr(Settings.from_env(environ, env_file="")))


@settings(max_examples=100, deadline=None)
@given(PASSWORDS)
def test_a_driver_error_quoting_the_url_is_masked_by_name(password: str) -> None:
    url = odbc_url(password)
    with pytest.raises(ServiceUnavailable) as failure, reaching("SQL database", url, (OperationalError,)):
        raise OperationalError(f"connect failed: {url} / PWD={password};", None, Exception("refused"))
    message = str(failure.value)
    assert message.startswith("SQL database at mssql+pyodbc:///?odbc_connect=")
    assert_hidden(password, message)


@pytest.mark.parametrize(
    ("text", "shown_as"),
    [
        ("postgresql://u:pa/ss word@h/db", "postgresql://u:***@h/db"),
        ("see DRIVER={x};PWD=hunter2;UID=sa", "see DRIVER={x};PWD=***;UID=sa"),
        ("mongodb://app:p%40ss@db", "mongodb://app:***@db"),
    ],
)
def test_named_examples(text: str, shown_as: str) -> None:
    secrets = {"pa/ss word", "hunter2", "p@ss"}
    assert Masker.of(secrets)(text) == shown_as
