"""How the node API answers errors: ``{"status", "message"}`` JSON at HTTP's statuses.

The seed gives the node routes' statuses (400 ``text/plain`` for a relation that is
not here, 401 for a refused token, 403 without one); those answers are made in
``nodeauth.py``. Every other error of the tree answers at the status HTTP defines.
"""

from __future__ import annotations

from typing import Final

from issuesync.api.errors import HTTP_STATUSES, ErrorDialect, plain_error

ISSUEHUB: Final = ErrorDialect(plain_error, HTTP_STATUSES)
