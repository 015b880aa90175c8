"""Rule tests that read divisions, items or departments use the real content, loaded once for the package."""

import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture
def loaded(content, fixed_clock, db):  # noqa: F811
    """The real content, with the clock at 2025-06-09 09:00."""
    return fixed_clock
