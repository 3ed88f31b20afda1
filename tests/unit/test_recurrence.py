"""Recurrence expansion, the month-end rule, local start times and the materialisation
horizon: pure domain code, no I/O."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_service.domain import events as ev
from event_service.domain.events import EventKind, EventSpec, Service, SessionSpec
from event_service.domain.recurrence import (
    Frequency,
    Recurrence,
    dates_between,
    first_date_on_or_after,
    has_date_between,
    last_date,
    schedule_text,
)

FAR = date(2100, 1, 1)
D = date


def dates(first: date, frequency: Frequency, *, interval: int = 1, until: date | None = None,
          count: int | None = None, start: date | None = None, end: date = FAR) -> list[date]:
    return dates_between(first, Recurrence(frequency, interval, until, count), start or first, end)


# --- frequencies, intervals and ends ----------------------------------------------------


def test_daily_with_interval_and_inclusive_until():
    assert dates(D(2026, 1, 1), Frequency.DAILY, interval=3, until=D(2026, 1, 10)) == [
        D(2026, 1, 1), D(2026, 1, 4), D(2026, 1, 7), D(2026, 1, 10)]
    # An until date the series does not fall on ends it before.
    assert dates(D(2026, 1, 1), Frequency.DAILY, interval=3, until=D(2026, 1, 9))[-1] == D(2026, 1, 7)


def test_weekly_every_two_weeks_with_count_keeps_the_weekday():
    got = dates(D(2026, 12, 1), Frequency.WEEKLY, interval=2, count=4)
    assert got == [D(2026, 12, 1), D(2026, 12, 15), D(2026, 12, 29), D(2027, 1, 12)]
    assert {d.weekday() for d in got} == {D(2026, 12, 1).weekday()}


def test_monthly_with_interval():
    assert dates(D(2026, 1, 15), Frequency.MONTHLY, interval=3, count=4) == [
        D(2026, 1, 15), D(2026, 4, 15), D(2026, 7, 15), D(2026, 10, 15)]


def test_a_series_that_never_ends_is_bounded_by_the_window_asked_for():
    got = dates(D(2026, 1, 5), Frequency.WEEKLY, start=D(2026, 3, 1), end=D(2026, 3, 31))
    assert got == [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16), D(2026, 3, 23), D(2026, 3, 30)]
    assert last_date(D(2026, 1, 5), Recurrence(Frequency.WEEKLY)) is None


def test_window_bounds_are_inclusive_and_an_empty_window_is_empty():
    assert dates(D(2026, 1, 1), Frequency.DAILY, start=D(2026, 1, 3), end=D(2026, 1, 3)) == [D(2026, 1, 3)]
    assert dates(D(2026, 1, 1), Frequency.DAILY, start=D(2026, 1, 4), end=D(2026, 1, 3)) == []


def test_one_off_is_its_date():
    assert dates_between(D(2026, 5, 1), None, D(2026, 1, 1), D(2026, 12, 31)) == [D(2026, 5, 1)]
    assert dates_between(D(2026, 5, 1), None, D(2026, 5, 2), D(2026, 12, 31)) == []
    assert last_date(D(2026, 5, 1), None) == D(2026, 5, 1)


def test_last_date_of_count_and_until_series():
    assert last_date(D(2026, 1, 1), Recurrence(Frequency.WEEKLY, 1, count=3)) == D(2026, 1, 15)
    assert last_date(D(2026, 1, 1), Recurrence(Frequency.WEEKLY, 1, until=D(2026, 2, 1))) == D(2026, 2, 1)


def test_first_date_on_or_after_and_has_date_between():
    weekly = Recurrence(Frequency.WEEKLY, 1, count=3)  # Jan 1, 8, 15 (Thursdays)
    assert first_date_on_or_after(D(2026, 1, 1), weekly, D(2026, 1, 2)) == D(2026, 1, 8)
    assert first_date_on_or_after(D(2026, 1, 1), weekly, D(2026, 1, 8)) == D(2026, 1, 8)
    assert first_date_on_or_after(D(2026, 1, 1), weekly, D(2026, 1, 16)) is None
    assert has_date_between(D(2026, 1, 1), weekly, D(2026, 1, 9), D(2026, 1, 15))
    assert not has_date_between(D(2026, 1, 1), weekly, D(2026, 1, 9), D(2026, 1, 14))
    assert has_date_between(D(2026, 1, 1), Recurrence(Frequency.WEEKLY), D(2030, 1, 1), None)


# --- the month-end rule -----------------------------------------------------------------


def test_monthly_from_the_31st_falls_on_the_last_day_of_shorter_months():
    assert dates(D(2026, 1, 31), Frequency.MONTHLY, count=7) == [
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30),
        D(2026, 7, 31)]


def test_monthly_from_the_31st_in_a_leap_year_gets_february_29():
    assert dates(D(2028, 1, 31), Frequency.MONTHLY, count=3) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]


def test_monthly_from_the_30th_and_the_29th():
    assert dates(D(2026, 1, 30), Frequency.MONTHLY, count=4) == [
        D(2026, 1, 30), D(2026, 2, 28), D(2026, 3, 30), D(2026, 4, 30)]
    assert dates(D(2027, 12, 30), Frequency.MONTHLY, count=4) == [
        D(2027, 12, 30), D(2028, 1, 30), D(2028, 2, 29), D(2028, 3, 30)]
    assert dates(D(2026, 1, 29), Frequency.MONTHLY, count=3) == [D(2026, 1, 29), D(2026, 2, 28), D(2026, 3, 29)]
    assert dates(D(2028, 1, 29), Frequency.MONTHLY, count=3) == [D(2028, 1, 29), D(2028, 2, 29), D(2028, 3, 29)]


def test_monthly_month_end_with_an_interval_and_an_until_date():
    assert dates(D(2026, 1, 31), Frequency.MONTHLY, interval=2, until=D(2026, 9, 30)) == [
        D(2026, 1, 31), D(2026, 3, 31), D(2026, 5, 31), D(2026, 7, 31), D(2026, 9, 30)]


def test_monthly_month_end_counts_each_month_once():
    assert last_date(D(2026, 1, 31), Recurrence(Frequency.MONTHLY, count=2)) == D(2026, 2, 28)


# --- schedule text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "text"),
    [(None, "2026-12-01"),
     (Recurrence(Frequency.DAILY), "every day"),
     (Recurrence(Frequency.DAILY, 3), "every 3 days"),
     (Recurrence(Frequency.WEEKLY, 2, until=D(2027, 3, 1)), "every 2 weeks until 2027-03-01"),
     (Recurrence(Frequency.WEEKLY, 1, count=10), "every week, 10 times"),
     (Recurrence(Frequency.MONTHLY, 1, count=1), "every month, once"),
     (Recurrence(Frequency.MONTHLY, 6), "every 6 months")],
)
def test_schedule_text(recurrence, text):
    assert schedule_text(D(2026, 12, 1), recurrence) == text


# --- local start times ------------------------------------------------------------------


def test_moscow_has_no_dst_so_10_00_is_07_00_utc_all_year():
    zone = ZoneInfo("Europe/Moscow")
    assert ev.starts_at(D(2026, 1, 15), time(10), zone) == datetime(2026, 1, 15, 7, tzinfo=UTC)
    assert ev.starts_at(D(2026, 7, 15), time(10), zone) == datetime(2026, 7, 15, 7, tzinfo=UTC)


def test_a_dst_zone_keeps_the_local_start_time_across_the_change():
    zone = ZoneInfo("Europe/Berlin")  # CET -> CEST on 2026-03-29
    starts = [ev.starts_at(d, time(10), zone)
              for d in dates(D(2026, 3, 22), Frequency.WEEKLY, count=2)]
    assert starts == [datetime(2026, 3, 22, 9, tzinfo=UTC), datetime(2026, 3, 29, 8, tzinfo=UTC)]
    assert {s.astimezone(zone).time() for s in starts} == {time(10)}


def test_a_start_inside_the_spring_forward_gap_lands_after_it():
    zone = ZoneInfo("Europe/Berlin")
    start = ev.starts_at(D(2026, 3, 29), time(2, 30), zone)
    assert start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert start.astimezone(zone).time() == time(3, 30)


# --- materialisation plan ---------------------------------------------------------------

SERVICES = {
    "laundry": Service("laundry", "Стирка", default_capacity=6, default_booking_window_days=7,
                       default_duration_minutes=90),
    "shower": Service("shower", "Душ", default_capacity=12, default_booking_window_days=3,
                      default_duration_minutes=20),
}
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def _event(**overrides) -> ev.Event:
    spec = dict(title="Неделя", capacity=10, kind=EventKind.RECURRING, first_date="2026-03-22",
                recurrence=ev.RecurrenceSpec(Frequency.WEEKLY, 1),
                sessions=(SessionSpec(service="services/laundry", start_time="10:00"),
                          SessionSpec(service="services/shower", start_time="12:30", key="shower",
                                      booking_window_days=21)),
                pools=(ev.PoolSpec("общий", 5, ("s1", "shower")),),
                time_zone="Europe/Berlin")
    spec.update(overrides)
    return ev.new_event(EventSpec(**spec), event_id="e-1", venue_id="v-1", services=SERVICES, now=NOW)


def test_defaults_come_from_the_service_capped_by_the_event():
    event = _event(capacity=4)
    laundry, shower = event.sessions
    assert (laundry.key, laundry.capacity, laundry.duration_minutes, laundry.booking_window_days) == ("s1", 4, 90, 7)
    assert (shower.key, shower.capacity, shower.duration_minutes, shower.booking_window_days) == ("shower", 4, 20, 21)


def test_horizon_covers_the_longest_booking_window_and_stops_at_the_series_end():
    event = _event()
    today = event.today(NOW)
    assert ev.materialisation_target(event, today) == today + timedelta(days=22)
    ends_soon = _event(recurrence=ev.RecurrenceSpec(Frequency.WEEKLY, 1, count=2))
    assert ev.materialisation_target(ends_soon, today) == D(2026, 3, 29)


def test_plan_has_stable_ids_local_times_and_pools():
    event = _event()
    first, again = (ev.plan_occurrences(event, [D(2026, 3, 22), D(2026, 3, 29)], {"laundry": "Стирка"})
                    for _ in range(2))
    assert first == again
    occurrence = first[1].occurrence
    assert occurrence.id == ev.occurrence_id("e-1", D(2026, 3, 29))
    laundry, shower = first[1].sessions
    assert laundry.id == ev.session_id(occurrence.id, event.sessions[0].id)
    assert laundry.starts_at == datetime(2026, 3, 29, 8, tzinfo=UTC)  # 10:00 CEST
    assert laundry.ends_at - laundry.starts_at == timedelta(minutes=90)
    assert laundry.service_display_name == "Стирка"
    (pool,) = first[1].pools
    assert pool.id == ev.pool_id(occurrence.id, event.pools[0].id)
    assert pool.session_ids == (laundry.id, shower.id)
    assert laundry.pool_ids == shower.pool_ids == (pool.id,)
    assert len({s.id for plan in first for s in plan.sessions}) == 4


def test_dates_to_materialise_skip_the_past_and_what_exists():
    event = _event(first_date="2026-03-01")
    assert ev.dates_to_materialise(event, today=D(2026, 3, 20), through=D(2026, 4, 5)) == [
        D(2026, 3, 22), D(2026, 3, 29), D(2026, 4, 5)]
    extended = replace(event, materialized_until=D(2026, 3, 29))
    assert ev.dates_to_materialise(extended, today=D(2026, 3, 20), through=D(2026, 4, 5)) == [D(2026, 4, 5)]


# --- properties -------------------------------------------------------------------------

ends = st.one_of(
    st.tuples(st.just("until"), st.integers(0, 1500)),
    st.tuples(st.just("count"), st.integers(1, 60)),
    st.tuples(st.just("never"), st.just(0)),
)


@settings(max_examples=300, deadline=None)
@given(first=st.dates(D(2000, 1, 1), D(2040, 12, 31)), frequency=st.sampled_from(list(Frequency)),
       interval=st.integers(1, 12), end=ends)
def test_generated_dates_respect_the_rule(first, frequency, interval, end):
    kind, amount = end
    until = first + timedelta(days=amount) if kind == "until" else None
    count = amount if kind == "count" else None
    window_end = until or (D(2200, 1, 1) if count else first + timedelta(days=1500))
    got = dates_between(first, Recurrence(frequency, interval, until, count), first, window_end)
    assert got and got[0] == first
    assert all(a < b for a, b in zip(got, got[1:])), "strictly increasing"
    assert all(first <= d <= window_end for d in got)
    if until is not None:
        assert got[-1] <= until
    if count is not None:
        assert len(got) == count
    if frequency is Frequency.MONTHLY:
        months = [d.year * 12 + d.month for d in got]
        assert all(b - a == interval for a, b in zip(months, months[1:])), "no month is ever skipped"
        assert all(d.day == min(first.day, calendar.monthrange(d.year, d.month)[1]) for d in got)
    else:
        step = interval * (7 if frequency is Frequency.WEEKLY else 1)
        assert all((b - a).days == step for a, b in zip(got, got[1:]))
