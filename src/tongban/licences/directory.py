"""The hub's licence directory (全国证照目录): the issuing node reports every licence and every change
of its state to the hub (`licence.indexed`, an answered exchange); the hub keeps the index entry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from tongban import clock
from tongban.clock import CHINA_TZ
from tongban.crypto import hmac_sm3
from tongban.exchange import outbox
from tongban.exchange.envelope import Envelope
from tongban.exchange.handlers import handles
from tongban.licences.models import Licence, LicenceIndexEntry, LicenceIndexHolder

INDEXED = "licence.indexed"


def holder_key(id_number: str) -> str:
    """The directory's key for a holder: HMAC-SM3 of the ID number or credit code, never the number."""
    key = settings.TONGBAN_HOLDER_INDEX_KEY.encode()
    return hmac_sm3(key, id_number.strip().upper().encode()).hex()


def index_payload(licence: Licence) -> dict:
    return {
        "identifier": licence.identifier,
        "type": licence.licence_type_id,
        "issuer_node": licence.node,
        "holder_keys": [holder_key(h.id_number) for h in licence.holders.all()],
        "state": licence.state,
        "state_changed_at": licence.state_changed_at.astimezone(CHINA_TZ).isoformat(),
        "revision": licence.events.count(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
    }


def report(licence: Licence) -> None:
    """Tell the hub, in the caller's transaction (the issue or the state change)."""
    outbox.send(
        INDEXED,
        from_node=licence.node,
        to_node=settings.TONGBAN_HUB_NODE,
        case_no=licence.case_no,
        payload=index_payload(licence),
    )


@handles(INDEXED)
def on_licence_indexed(envelope: Envelope) -> None:
    entry = envelope.payload
    changed_at = dt.datetime.fromisoformat(entry["state_changed_at"])
    kept = (
        LicenceIndexEntry.objects.select_for_update()
        .filter(node=envelope.to_node, identifier=entry["identifier"])
        .first()
    )
    if kept is not None and kept.issuer_node != envelope.from_node:
        return  # only the issuing node speaks for a licence
    if kept is not None and kept.revision >= entry["revision"]:
        return  # a later state is already known
    values = {
        "licence_type": entry["type"],
        "issuer_node": envelope.from_node,
        "state": entry["state"],
        "state_changed_at": changed_at,
        "revision": entry["revision"],
        "valid_until": dt.date.fromisoformat(entry["valid_until"]) if entry["valid_until"] else None,
        "indexed_at": clock.now(),
        "statement": envelope.to_dict(),
    }
    row, created = LicenceIndexEntry.objects.update_or_create(
        node=envelope.to_node, identifier=entry["identifier"], defaults=values
    )
    if created:
        holders = [LicenceIndexHolder(entry=row, holder_key=key) for key in entry["holder_keys"]]
        LicenceIndexHolder.objects.bulk_create(holders)
