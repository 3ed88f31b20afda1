"""EventService catalog methods."""

from __future__ import annotations


class CatalogMethods:
    pass
