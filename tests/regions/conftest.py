"""Regions are loaded once for this package: ~3,200 divisions are too many to load per test.

The rows are committed outside the per-test transactions, so each test still rolls back its own writes
(for example county departments created on demand) and sees the loaded content unchanged.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from tongban.regions.loader import load_regions
from tongban.regions.models import Alliance, Department, Node, Region


@pytest.fixture(scope="package")
def regions_loaded(django_db_setup, django_db_blocker) -> dict[str, int]:
    with django_db_blocker.unblock():
        already_loaded = Region.objects.exists()
        counts = load_regions(settings.CONTENT_DIR)
    yield counts
    if not already_loaded:
        # Leave the database as other packages found it; they may create their own regions.
        with django_db_blocker.unblock():
            _unload()


def _unload() -> None:
    # Plain SQL, children first: the ORM's delete would also query every app that points at these tables.
    tables = [
        Alliance.members.through._meta.db_table,
        Alliance._meta.db_table,
        Department._meta.db_table,
        Node._meta.db_table,
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            region = connection.ops.quote_name(Region._meta.db_table)
            for level in sorted(Region.Level.values, reverse=True):
                cursor.execute(f"DELETE FROM {region} WHERE level = %s", [level])
    except IntegrityError:
        # Something outside this package now points at the regions: keep them rather than break it.
        pass
