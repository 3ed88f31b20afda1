"""Venues: the places where events happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.errors import Validator

MAX_DISPLAY_NAME = 200
MAX_ADDRESS = 500


@dataclass(frozen=True)
class Venue:
    id: str
    display_name: str
    address: str
    created_at: datetime
    version: int = 1

    @property
    def name_key(self) -> str:
        """What makes two names the same venue: case and spacing do not."""
        return self.display_name.casefold()


@dataclass(frozen=True)
class VenueCreated:
    venue: Venue


def new_venue(*, venue_id: str, display_name: str, address: str, now: datetime) -> Venue:
    """A validated venue; names are trimmed so that "Ясная " and "Ясная" are the same place."""
    display_name = " ".join(display_name.split())
    address = address.strip()
    check = Validator()
    check.check(bool(display_name), "display_name", "is required")
    check.check(len(display_name) <= MAX_DISPLAY_NAME, "display_name", f"must be at most {MAX_DISPLAY_NAME} characters")
    check.check("\x00" not in display_name, "display_name", "must not contain NUL characters")
    check.check(len(address) <= MAX_ADDRESS, "address", f"must be at most {MAX_ADDRESS} characters")
    check.check("\x00" not in address, "address", "must not contain NUL characters")
    check.raise_if_any()
    return Venue(id=venue_id, display_name=display_name, address=address, created_at=now)
