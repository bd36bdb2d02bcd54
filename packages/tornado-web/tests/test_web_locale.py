"""tornado.locale: CSV and gettext translations, closest-locale choice,
date/list/number formatting, and the browser locale of a handler."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tornado import locale
from tornado.web import Application, RequestHandler


@pytest.fixture(autouse=True)
def reset_locale_state() -> Iterator[None]:
    """The module is process-global: restore it after each test."""
    saved = (
        locale._translations,
        locale._supported_locales,
        locale._default_locale,
        locale._use_gettext,
    )
    yield
    (
        locale._translations,
        locale._supported_locales,
        locale._default_locale,
        locale._use_gettext,
    ) = saved
    locale.Locale._cache.clear()


def write_csv_translations(directory: Path) -> None:
    (directory / "es_LA.csv").write_text(
        '"Hello","Hola"\n'
        '"%(count)d apple","%(count)d manzana","singular"\n'
        '"%(count)d apples","%(count)d manzanas","plural"\n'
        '"January","enero"\n'
        '"%(commas)s and %(last)s","%(commas)s y %(last)s"\n'
        '"odd","raro","bogus"\n',
        encoding="utf-8",
    )
    (directory / "fr_FR.csv").write_bytes('"Hello","Bonjour"\n'.encode("utf-16"))
    (directory / "not-a-locale.csv").write_text('"Hello","?"\n')


def test_csv_translations(tmp_path: Path) -> None:
    write_csv_translations(tmp_path)
    locale.load_translations(str(tmp_path))
    assert locale.get_supported_locales() == frozenset({"es_LA", "fr_FR", "en_US"})
    es = locale.get("es_LA")
    assert isinstance(es, locale.CSVLocale)
    assert es.translate("Hello") == "Hola"
    assert es.translate("Unknown phrase") == "Unknown phrase"
    assert es.translate("%(count)d apple", "%(count)d apples", 1) % {"count": 1} == "1 manzana"
    assert es.translate("%(count)d apple", "%(count)d apples", 3) % {"count": 3} == "3 manzanas"
    assert es.translate("odd") == "odd"  # row with a bad plural column skipped
    assert es.list(["a", "b", "c"]) == "a, b y c"
    assert es.name == "Español"
    assert locale.get("fr_FR").translate("Hello") == "Bonjour"  # UTF-16 detected
    assert es.pgettext("context", "Hello") == "Hola"


def test_closest_locale(tmp_path: Path) -> None:
    write_csv_translations(tmp_path)
    locale.load_translations(str(tmp_path))
    assert locale.get("es-la").code == "es_LA"
    assert locale.get("de_DE", "fr-FR").code == "fr_FR"
    assert locale.get("xx").code == "en_US"
    assert locale.get("a_b_c", "fr_FR").code == "fr_FR"
    locale.set_default_locale("fr_FR")
    assert locale.get("zz").code == "fr_FR"
    assert locale.Locale.get("es_LA") is locale.Locale.get("es_LA")


def test_rtl_and_names() -> None:
    assert locale.Locale.get("fa_IR").rtl
    assert not locale.Locale.get("en_US").rtl
    assert locale.LOCALE_NAMES["ja_JP"] == {"name_en": "Japanese", "name": "日本語"}
    assert locale.Locale.get("xx_YY").name == "Unknown"


def test_format_date_relative_and_full() -> None:
    en = locale.Locale.get("en_US")
    now = datetime.datetime.now(datetime.UTC)
    assert en.format_date(now - datetime.timedelta(seconds=5)) == "5 seconds ago"
    assert en.format_date(now - datetime.timedelta(seconds=1)) == "1 second ago"
    assert en.format_date(now - datetime.timedelta(minutes=10)) == "10 minutes ago"
    assert en.format_date(now - datetime.timedelta(minutes=1)) == "1 minute ago"
    assert en.format_date(now - datetime.timedelta(hours=3)) == "3 hours ago"
    assert en.format_date(now.timestamp() - 60 * 60 * 2) == "2 hours ago"
    fixed = datetime.datetime(2013, 4, 28, 18, 35, tzinfo=datetime.UTC)
    assert en.format_date(fixed, full_format=True) == "April 28, 2013 at 6:35 pm"
    assert en.format_date(fixed, shorter=True) == "April 28, 2013"
    assert en.format_date(fixed.replace(tzinfo=None), relative=False) == "April 28, 2013 at 6:35 pm"
    # gmt_offset is minutes west of UTC: 420 is UTC-7.
    assert en.format_date(fixed, full_format=True, gmt_offset=420) == "April 28, 2013 at 11:35 am"
    week_ago = now - datetime.timedelta(days=3)
    assert en.format_date(week_ago, shorter=True) == week_ago.strftime("%A")
    de = locale.Locale.get("de_DE")
    assert de.format_date(fixed, full_format=True) == "April 28, 2013 at 18:35"
    zh = locale.Locale.get("zh_CN")
    assert zh.format_date(fixed, full_format=True).endswith("\u4e0b\u53486:35")
    future = now + datetime.timedelta(days=400)
    assert str(future.year) in en.format_date(future)


def test_format_date_future_beyond_clock_skew_is_absolute() -> None:
    en = locale.Locale.get("en_US")
    now = datetime.datetime.now(datetime.UTC)
    # A day and 30 seconds ahead: its timedelta.seconds is 30, but it is
    # not clock skew, so it is shown as a date, not "0 seconds ago".
    ahead = now + datetime.timedelta(days=1, seconds=30)
    expected = f"{ahead.strftime('%B')} {ahead.day}, {ahead.year}"
    assert en.format_date(ahead, shorter=True) == expected
    # Up to a minute ahead is skew: shown as just now.
    assert en.format_date(now + datetime.timedelta(seconds=20)) == "0 seconds ago"


def test_format_day_list_and_numbers() -> None:
    en = locale.Locale.get("en_US")
    day = datetime.datetime(2013, 4, 28, 12, 0)
    assert en.format_day(day) == "Sunday, April 28"
    assert en.format_day(day, dow=False) == "April 28"
    assert en.format_day(day, gmt_offset=60 * 13) == "Saturday, April 27"
    assert en.list([]) == ""
    assert en.list(["a"]) == "a"
    assert en.list(["a", "b"]) == "a and b"
    assert en.friendly_number(1234567) == "1,234,567"
    assert en.friendly_number(12) == "12"
    assert locale.Locale.get("de_DE").friendly_number(1234567) == "1234567"


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """Write a gettext .mo catalogue (the GNU format) for ``messages``."""
    entries = sorted(messages.items())
    ids = b"".join(k.encode() + b"\0" for k, _ in entries)
    strs = b"".join(v.encode() + b"\0" for _, v in entries)
    count = len(entries)
    header_size = 7 * 4
    table_size = count * 8
    ids_start = header_size + 2 * table_size
    strs_start = ids_start + len(ids)
    id_table = b""
    str_table = b""
    id_offset = str_offset = 0
    for key, value in entries:
        id_table += struct.pack("<II", len(key.encode()), ids_start + id_offset)
        str_table += struct.pack("<II", len(value.encode()), strs_start + str_offset)
        id_offset += len(key.encode()) + 1
        str_offset += len(value.encode()) + 1
    header = struct.pack("<7I", 0x950412DE, 0, count, header_size, header_size + table_size, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + id_table + str_table + ids + strs)


def test_gettext_translations(tmp_path: Path) -> None:
    write_mo(
        tmp_path / "fr_FR" / "LC_MESSAGES" / "app.mo",
        {
            "": "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n > 1);\n",
            "school": "école",
            "law\x04right": "le droit",
            "good\x04right": "le bien",
            "%(n)d apple\x00%(n)d apples": "%(n)d pomme\x00%(n)d pommes",
        },
    )
    (tmp_path / "de_DE").mkdir()  # no catalogue: not a supported locale
    locale.load_gettext_translations(str(tmp_path), "app")
    assert locale.get_supported_locales() == frozenset({"fr_FR", "en_US"})
    assert locale.get("fr").code == "en_US"  # a bare language does not pick a region
    fr = locale.get("fr-FR")
    assert isinstance(fr, locale.GettextLocale)
    assert fr.translate("school") == "école"
    assert fr.translate("%(n)d apple", "%(n)d apples", 1) == "%(n)d pomme"
    assert fr.translate("%(n)d apple", "%(n)d apples", 2) == "%(n)d pommes"
    assert fr.pgettext("law", "right") == "le droit"
    assert fr.pgettext("good", "right") == "le bien"
    assert fr.pgettext("other", "school") == "school"
    assert fr.pgettext("none", "%(n)d apple", "%(n)d apples", 2) == "%(n)d pommes"


class LocaleHandler(RequestHandler):
    def get(self) -> None:
        self.write({"code": self.locale.code, "hello": self._("Hello")})

    def _(self, message: str) -> str:
        return self.locale.translate(message)


class UserLocaleHandler(LocaleHandler):
    def get_user_locale(self) -> Any:
        return locale.get(self.get_argument("lang"))


@pytest.mark.asyncio
async def test_browser_and_user_locale(serve: Any, tmp_path: Path) -> None:
    write_csv_translations(tmp_path)
    locale.load_translations(str(tmp_path))
    client = await serve(Application([(r"/", LocaleHandler), (r"/user", UserLocaleHandler)]))
    response = await client.fetch(
        "/", headers={"Accept-Language": "de;q=0.9, fr-FR;q=0.8, es-LA;q=0.95"}
    )
    assert response.text == '{"code": "es_LA", "hello": "Hola"}'
    response = await client.fetch("/", headers={"Accept-Language": "es-LA;q=0, fr;q=bad, fr-FR"})
    assert response.text == '{"code": "fr_FR", "hello": "Bonjour"}'
    response = await client.fetch("/")
    assert response.text == '{"code": "en_US", "hello": "Hello"}'
    response = await client.fetch("/user?lang=fr_FR", headers={"Accept-Language": "es-LA"})
    assert response.text == '{"code": "fr_FR", "hello": "Bonjour"}'
