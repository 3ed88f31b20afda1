"""The roles a token may carry (DESIGN.md §7) and the groups the access rules speak of.

Pure names, no dependencies: the services' domain rules, the gateway and the token code all
import them from here.
"""

from __future__ import annotations

ADMIN = "admin"
VOLUNTEER = "volunteer"
ANALYST = "analyst"
PARTICIPANT = "participant"
SERVICE = "service"  # another service calling on its own account

ROLES = frozenset({ADMIN, VOLUNTEER, ANALYST, PARTICIPANT, SERVICE})
# Act for anyone: book for others, work the check-in desk, call as another service.
STAFF = frozenset({ADMIN, VOLUNTEER, SERVICE})
# Read anyone's records and figures.
READERS = STAFF | {ANALYST}
