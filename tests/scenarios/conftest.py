"""Scenario tests run on the real content (regions, holidays, items, demo accounts), loaded once for the package."""

import pytest

from support import content  # noqa: F401  (package-scoped fixture)


@pytest.fixture
def loaded(content, fixed_clock, db):  # noqa: F811
    return content
