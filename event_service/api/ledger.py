"""EventService ledger methods."""

from __future__ import annotations


class LedgerMethods:
    pass
