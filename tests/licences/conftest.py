import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture(autouse=True)
def _content_and_clock(content, fixed_clock, db):  # noqa: F811
    """Every licence test runs on the real content, at 2025-06-09 09:00 (a Monday)."""
    return fixed_clock
