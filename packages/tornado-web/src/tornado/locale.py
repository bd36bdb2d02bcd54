"""Translation and locale-aware formatting.

Load translations once at start-up, from CSV files (`load_translations`) or
from gettext ``.mo`` catalogues (`load_gettext_translations`), then get a
`Locale` for a user with `get` (which picks the closest supported locale)
and call `Locale.translate` (aliased ``_`` in templates) and the formatting
helpers (`Locale.format_date`, `Locale.format_day`, `Locale.list`,
`Locale.friendly_number`).

In `tornado.web`, ``RequestHandler.locale`` is the locale of the current
user (from ``get_user_locale``) or of the browser's ``Accept-Language``.

The module keeps global state (the loaded translations, the supported
locale set and the default locale), as Tornado does: it is meant to be
configured once per process, before serving.
"""

from __future__ import annotations

import codecs
import datetime
import os
import re
from typing import TYPE_CHECKING, Any

from tornado._locale_data import LOCALE_NAMES
from tornado.log import gen_log

if TYPE_CHECKING:
    import gettext

# `csv`, `gettext` and `glob` are imported by the loaders that use them:
# most applications load no translations, and `tornado.web` imports this
# module.

__all__ = [
    "LOCALE_NAMES",
    "CSVLocale",
    "GettextLocale",
    "Locale",
    "get",
    "get_supported_locales",
    "load_gettext_translations",
    "load_translations",
    "set_default_locale",
]

_default_locale = "en_US"
_translations: dict[str, Any] = {}
_supported_locales: frozenset[str] = frozenset([_default_locale])
_use_gettext = False

#: Separates a message's context from the message in gettext catalogues.
CONTEXT_SEPARATOR = "\x04"

# A CSV file name is a locale code: "es" or "es_GT".
_LOCALE_FILE_RE = re.compile(r"[a-z]+(_[A-Z]+)?$")


def get(*locale_codes: str) -> Locale:
    """Return the closest supported `Locale` for the given codes, tried in
    order (e.g. the ``Accept-Language`` preferences); the default locale if
    none is supported.  Codes may use ``-`` or ``_``."""
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Use ``code`` when no requested locale is supported.

    The default locale is always supported, with or without translations.
    """
    global _default_locale, _supported_locales
    _default_locale = code
    _supported_locales = frozenset([*_translations.keys(), _default_locale])


def _read_csv_text(path: str, encoding: str | None) -> str:
    with open(path, "rb") as f:
        data = f.read()
    if encoding is None:
        # Spreadsheet programs save either UTF-16 with a byte-order mark or
        # UTF-8 (with or without one); anything else needs an explicit encoding.
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
    return data.decode(encoding)


def load_translations(directory: str, encoding: str | None = None) -> None:
    """Load CSV translations from ``directory``, one file per locale.

    Each file is named after its locale (``es_GT.csv``) and has rows
    ``"original","translation"[,"plural"]`` where the optional third column
    is ``plural`` or ``singular`` and tells which form of a message with a
    plural the row translates (rows without it are ``unknown``).  Strings
    may use ``%(name)s`` placeholders.

    The encoding defaults to UTF-16 when the file starts with a UTF-16
    byte-order mark and UTF-8 otherwise.  Files with unrecognised names and
    rows with a bad plural column are logged and skipped.  Raises `OSError`
    if the directory cannot be read.
    """
    global _translations, _supported_locales, _use_gettext
    import csv

    translations: dict[str, dict[str, dict[str, str]]] = {}
    for path in sorted(os.listdir(directory)):
        if not path.endswith(".csv"):
            continue
        locale, _ext = path.rsplit(".", 1)
        if not _LOCALE_FILE_RE.match(locale):
            gen_log.error(
                "Unrecognized locale %r (path: %s)", locale, os.path.join(directory, path)
            )
            continue
        full_path = os.path.join(directory, path)
        text = _read_csv_text(full_path, encoding)
        table: dict[str, dict[str, str]] = {}
        for i, row in enumerate(csv.reader(text.splitlines())):
            if not row or len(row) < 2:
                continue
            original, translated = row[0], row[1]
            plural = row[2].strip() if len(row) > 2 and row[2].strip() else "unknown"
            if plural not in ("plural", "singular", "unknown"):
                gen_log.error("Unrecognized plural indicator %r in %s line %d", plural, path, i + 1)
                continue
            table.setdefault(plural, {})[original] = translated
        translations[locale] = table
    _translations = translations
    _supported_locales = frozenset([*_translations.keys(), _default_locale])
    _use_gettext = False
    Locale._cache.clear()
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def load_gettext_translations(directory: str, domain: str) -> None:
    """Load gettext catalogues: ``directory/<locale>/LC_MESSAGES/<domain>.mo``.

    Every sub-folder of ``directory`` that holds a catalogue for ``domain``
    becomes a supported locale; folders without one are skipped.  Raises
    `OSError` if the directory cannot be read.
    """
    global _translations, _supported_locales, _use_gettext
    import gettext
    import glob

    translations: dict[str, gettext.NullTranslations] = {}
    for lang in sorted(os.listdir(directory)):
        if lang.startswith("."):
            continue
        if os.path.isfile(os.path.join(directory, lang)):
            continue
        if not glob.glob(os.path.join(directory, lang, "LC_MESSAGES", domain + ".mo")):
            continue
        try:
            translations[lang] = gettext.translation(domain, directory, languages=[lang])
        except Exception as e:
            gen_log.error("Cannot load translation for '%s': %s", lang, str(e))
            continue
    _translations = translations
    _supported_locales = frozenset([*_translations.keys(), _default_locale])
    _use_gettext = True
    Locale._cache.clear()
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def get_supported_locales() -> frozenset[str]:
    """Return the codes of all supported locales (those with translations,
    plus the default)."""
    return _supported_locales


class Locale:
    """A locale: a code, its name, text direction, translations and formatting.

    Get instances with `get` or `Locale.get` rather than the constructor.
    Attributes: ``code``, ``name`` (its own name, from `LOCALE_NAMES`, or
    ``"Unknown"``) and ``rtl`` (True for right-to-left scripts).
    """

    _cache: dict[str, Locale] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> Locale:
        """Return the closest supported locale to the codes, tried in order:
        first the exact ``language_COUNTRY``, then the language alone.  Falls
        back to the default locale."""
        for code in locale_codes:
            if not code:
                continue
            code = code.replace("-", "_")
            parts = code.split("_")
            if len(parts) > 2:
                continue
            if len(parts) == 2:
                code = parts[0].lower() + "_" + parts[1].upper()
            if code in _supported_locales:
                return cls.get(code)
            if parts[0].lower() in _supported_locales:
                return cls.get(parts[0].lower())
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> Locale:
        """Return the locale for ``code`` (cached).  A code without
        translations gets an untranslated locale."""
        locale = cls._cache.get(code)
        if locale is None:
            translations = _translations.get(code)
            if translations is None:
                locale = CSVLocale(code, {})
            elif _use_gettext:
                locale = GettextLocale(code, translations)
            else:
                locale = CSVLocale(code, translations)
            cls._cache[code] = locale
        return locale

    def __init__(self, code: str) -> None:
        """Set up names and the translated month and weekday names."""
        self.code = code
        self.name = LOCALE_NAMES.get(code, {}).get("name", "Unknown")
        self.rtl = code[:2] in ("fa", "ar", "he")
        _ = self.translate
        self._months = [
            _("January"),
            _("February"),
            _("March"),
            _("April"),
            _("May"),
            _("June"),
            _("July"),
            _("August"),
            _("September"),
            _("October"),
            _("November"),
            _("December"),
        ]
        self._weekdays = [
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ]

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """Return ``message`` translated.

        With ``plural_message`` and ``count``, the plural form is chosen for
        ``count`` (``plural_message`` unless ``count == 1`` in English).
        """
        raise NotImplementedError()

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Translate ``message`` in ``context`` (to tell homographs apart);
        plurals as in `translate`."""
        raise NotImplementedError()

    def format_date(
        self,
        date: int | float | datetime.datetime,
        gmt_offset: int = 0,
        relative: bool = True,
        shorter: bool = False,
        full_format: bool = False,
    ) -> str:
        """Format a date (a POSIX timestamp or a `datetime`; naive ones are UTC).

        Recent dates are relative ("2 minutes ago", "yesterday at 5:30 pm")
        unless ``relative`` is False; ``full_format`` always gives the full
        date and time; ``shorter`` leaves out the time of day.  ``gmt_offset``
        is the user's offset from UTC in minutes (positive west of
        Greenwich, as JavaScript's ``getTimezoneOffset``).  Dates in the
        future are shown in full, except up to a minute of clock skew.
        """
        if isinstance(date, (int, float)):
            date = datetime.datetime.fromtimestamp(date, datetime.UTC)
        if date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
        now = datetime.datetime.now(datetime.UTC)
        if date > now:
            # total_seconds, not .seconds: a date a day and 30 s ahead is
            # not clock skew.
            if relative and (date - now).total_seconds() < 60:
                date = now
            else:
                full_format = True
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        local_now = now - datetime.timedelta(minutes=gmt_offset)
        local_yesterday = local_now - datetime.timedelta(hours=24)
        difference = now - date
        seconds = difference.seconds
        days = difference.days

        _ = self.translate
        format: str | None = None
        if not full_format:
            if relative and days == 0:
                if seconds < 50:
                    return _("1 second ago", "%(seconds)d seconds ago", seconds) % {
                        "seconds": seconds
                    }
                if seconds < 50 * 60:
                    minutes = round(seconds / 60.0)
                    return _("1 minute ago", "%(minutes)d minutes ago", minutes) % {
                        "minutes": minutes
                    }
                hours = round(seconds / (60.0 * 60))
                return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}
            if days == 0:
                format = _("%(time)s")
            elif days == 1 and local_date.day == local_yesterday.day and relative:
                format = _("yesterday") if shorter else _("yesterday at %(time)s")
            elif days < 5:
                format = _("%(weekday)s") if shorter else _("%(weekday)s at %(time)s")
            elif days < 334:  # about 11 months: the year is still obvious
                format = (
                    _("%(month_name)s %(day)s")
                    if shorter
                    else _("%(month_name)s %(day)s at %(time)s")
                )
        if format is None:
            format = (
                _("%(month_name)s %(day)s, %(year)s")
                if shorter
                else _("%(month_name)s %(day)s, %(year)s at %(time)s")
            )

        return format % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
            "year": str(local_date.year),
            "time": self._format_time(local_date.hour, local_date.minute),
        }

    def _format_time(self, hour: int, minute: int) -> str:
        # English and Simplified Chinese show a 12-hour clock; everyone else 24.
        if self.code == "zh_CN":
            return "%s%d:%02d" % (
                "\u4e0a\u5348" if hour < 12 else "\u4e0b\u5348",
                hour % 12 or 12,
                minute,
            )
        if self.code in ("en", "en_US"):
            return "%d:%02d %s" % (hour % 12 or 12, minute, "am" if hour < 12 else "pm")
        return "%d:%02d" % (hour, minute)

    def format_day(self, date: datetime.datetime, gmt_offset: int = 0, dow: bool = True) -> str:
        """Format a day, e.g. "Monday, January 22" (or "January 22" without
        ``dow``, the day of the week).  ``gmt_offset`` as in `format_date`."""
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        _ = self.translate
        values = {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
        }
        if dow:
            return _("%(weekday)s, %(month_name)s %(day)s") % values
        return _("%(month_name)s %(day)s") % values

    def list(self, parts: Any) -> str:
        """Join a list of strings as a sentence: "A, B and C"."""
        parts = [*parts]
        if not parts:
            return ""
        if len(parts) == 1:
            return str(parts[0])
        comma = " \u0648 " if self.code.startswith("fa") else ", "
        return self.translate("%(commas)s and %(last)s") % {
            "commas": comma.join(parts[:-1]),
            "last": parts[-1],
        }

    def friendly_number(self, value: int) -> str:
        """Return ``value`` with thousands separators ("1,234,567") in
        English locales; unchanged in others."""
        if self.code not in ("en", "en_US"):
            return str(value)
        return f"{value:,}"


class CSVLocale(Locale):
    """A locale whose translations came from `load_translations`."""

    def __init__(self, code: str, translations: dict[str, dict[str, str]]) -> None:
        """``translations`` maps ``plural``/``singular``/``unknown`` to dicts
        of original -> translated strings."""
        #: The translations of this locale: plural form (``"plural"``, ``"singular"``, ``"unknown"``) -> message -> translation.
        self.translations = translations
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """See `Locale.translate`.  Raises `ValueError` if ``plural_message``
        is given without ``count``."""
        if plural_message is not None:
            if count is None:
                raise ValueError("translate with plural_message needs a count")
            if count != 1:
                message = plural_message
                table = self.translations.get("plural", {})
            else:
                table = self.translations.get("singular", {})
        else:
            table = self.translations.get("unknown", {})
        return table.get(message, message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """CSV files have no contexts: logs a warning (when translations are
        loaded) and translates without the context."""
        if self.translations:
            gen_log.warning("pgettext is not supported by CSVLocale")
        return self.translate(message, plural_message, count)


class GettextLocale(Locale):
    """A locale backed by a gettext catalogue (`load_gettext_translations`)."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        """Wrap ``translations`` for ``code``."""
        #: The catalogue's ``ngettext`` (singular, plural, count).
        self.ngettext = translations.ngettext
        #: The catalogue's ``gettext``.
        self.gettext = translations.gettext
        # The base constructor translates month names, so the gettext
        # functions must exist first.
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """See `Locale.translate`.  Raises `ValueError` if ``plural_message``
        is given without ``count``."""
        if plural_message is not None:
            if count is None:
                raise ValueError("translate with plural_message needs a count")
            return self.ngettext(message, plural_message, count)
        return self.gettext(message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Translate with a gettext context (``msgctxt``); falls back to the
        message without context when the catalogue has no entry for it."""
        if plural_message is not None:
            if count is None:
                raise ValueError("pgettext with plural_message needs a count")
            keyed = self.ngettext(
                context + CONTEXT_SEPARATOR + message,
                context + CONTEXT_SEPARATOR + plural_message,
                count,
            )
            if CONTEXT_SEPARATOR in keyed:
                return self.ngettext(message, plural_message, count)
            return keyed
        keyed = self.gettext(context + CONTEXT_SEPARATOR + message)
        if CONTEXT_SEPARATOR in keyed:
            return message
        return keyed
