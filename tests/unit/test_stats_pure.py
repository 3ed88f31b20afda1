"""Stats arithmetic over projected registration states, without Redis."""

from __future__ import annotations

from reporting_service.stats import RegistrationCounts, participant_metrics

NOW = 1_000_000


def test_counts_by_state_and_attendance_of_confirmed_ones() -> None:
    counts = RegistrationCounts.of(["confirmed|attended", "confirmed|expected", "held|expected",
                                    "offered|expected", "waitlisted|expected", "cancelled|attended"])
    assert counts.registered == 4
    assert counts.by_state["waitlisted"] == 1
    assert dict(counts.by_attendance) == {"attended": 1, "expected": 1}  # the cancelled one is not counted


def test_participant_metrics_split_upcoming_from_ended_and_rate_no_shows() -> None:
    metrics = participant_metrics("p", [
        f"confirmed|attended|{NOW - 10}", f"confirmed|no_show|{NOW - 10}", f"confirmed|expected|{NOW - 10}",
        f"confirmed|expected|{NOW + 10}", f"held|expected|{NOW + 10}", f"cancelled|expected|{NOW + 10}",
        f"declined|expected|{NOW + 10}", f"expired|expected|{NOW - 10}"], NOW)
    assert (metrics.registrations, metrics.cancellations, metrics.attended, metrics.no_shows,
            metrics.upcoming) == (8, 2, 1, 2, 2)
    assert metrics.no_show_rate == 2 / 3
    assert participant_metrics("q", [], NOW).no_show_rate == 0.0
