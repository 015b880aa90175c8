"""Identity tests on the real content and demo accounts, loaded once for this package."""

import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture(autouse=True)
def _content_and_clock(content, fixed_clock, db):  # noqa: F811
    return fixed_clock


@pytest.fixture(autouse=True)
def fast_hasher() -> None:
    """The demo accounts were hashed with the configured hasher when the package loaded them: keep it."""
