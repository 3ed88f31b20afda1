"""Recurrence rules of events: which dates a series falls on, and the rule in words.

Expansion is python-dateutil's `rrule` (RFC 5545 semantics); no date arithmetic by hand.
Pure: no I/O, no framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from dateutil import rrule

MAX_INTERVAL = 365
MAX_COUNT = 1000
# A monthly series started after the 28th falls on the last day of shorter months.
LAST_DAY_EVERY_MONTH_HAS = 28


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


_RRULE_FREQUENCY = {Frequency.DAILY: rrule.DAILY, Frequency.WEEKLY: rrule.WEEKLY, Frequency.MONTHLY: rrule.MONTHLY}
_UNIT = {Frequency.DAILY: ("day", "days"), Frequency.WEEKLY: ("week", "weeks"), Frequency.MONTHLY: ("month", "months")}


@dataclass(frozen=True)
class Recurrence:
    """Every `interval` days/weeks/months from the first date, until a date (inclusive), for
    `count` dates, or forever (neither)."""

    frequency: Frequency
    interval: int = 1
    until: date | None = None
    count: int | None = None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def rule(first_date: date, recurrence: Recurrence) -> rrule.rrule:
    """The dateutil rule of a series; its datetimes are midnights of the dates."""
    options: dict = {"dtstart": _midnight(first_date), "interval": recurrence.interval}
    if recurrence.until is not None:
        options["until"] = _midnight(recurrence.until)  # rrule's until is inclusive
    if recurrence.count is not None:
        options["count"] = recurrence.count
    if recurrence.frequency is Frequency.MONTHLY and first_date.day > LAST_DAY_EVERY_MONTH_HAS:
        # The 31st means "the 31st, or the last day of a month without one": of the days
        # 28..31 that a month has, the last one (bysetpos=-1). Started on the 30th: 28..30, so
        # February gets its 28th (29th in leap years) and every other month its 30th. No month
        # is ever skipped, which plain bymonthday=31 would do.
        options["bymonthday"] = tuple(range(LAST_DAY_EVERY_MONTH_HAS, first_date.day + 1))
        options["bysetpos"] = -1
    return rrule.rrule(_RRULE_FREQUENCY[recurrence.frequency], **options)


def dates_between(first_date: date, recurrence: Recurrence | None, start: date, end: date) -> list[date]:
    """The dates of the series in [start, end], both inclusive, in order. None is a one-off."""
    if start > end:
        return []
    if recurrence is None:
        return [first_date] if start <= first_date <= end else []
    moments = rule(first_date, recurrence).between(_midnight(start), _midnight(end), inc=True)
    return [moment.date() for moment in moments]


def first_date_on_or_after(first_date: date, recurrence: Recurrence | None, day: date) -> date | None:
    """The first date of the series on or after `day`; None when the series ended before it."""
    if recurrence is None:
        return first_date if first_date >= day else None
    moment = rule(first_date, recurrence).after(_midnight(day), inc=True)
    return moment.date() if moment is not None else None


def has_date_between(first_date: date, recurrence: Recurrence | None, start: date, end: date | None) -> bool:
    """Whether the series has a date in [start, end] (end None: no upper bound)."""
    found = first_date_on_or_after(first_date, recurrence, start)
    return found is not None and (end is None or found <= end)


def last_date(first_date: date, recurrence: Recurrence | None) -> date | None:
    """The last possible date of the series: the date of a one-off, the until date (inclusive;
    the series may stop before it), the count-th date; None when the series never ends."""
    if recurrence is None:
        return first_date
    if recurrence.until is not None:
        return recurrence.until
    if recurrence.count is not None:
        return rule(first_date, recurrence)[-1].date()  # count <= MAX_COUNT: cheap
    return None


def schedule_text(first_date: date, recurrence: Recurrence | None) -> str:
    """The rule in words, in English like the contract's example: "every 2 weeks until
    2027-03-01", "every day, 10 times", "every month"; a one-off event is its date."""
    if recurrence is None:
        return first_date.isoformat()
    singular, plural = _UNIT[recurrence.frequency]
    text = f"every {singular}" if recurrence.interval == 1 else f"every {recurrence.interval} {plural}"
    if recurrence.until is not None:
        text += f" until {recurrence.until.isoformat()}"
    elif recurrence.count is not None:
        text += ", once" if recurrence.count == 1 else f", {recurrence.count} times"
    return text
