"""Node keys, the hub's signed trust list, and the signing and verification of every envelope.

- Each node has SM2 key pairs; the private key stays in the node's data folder (keys/<node>/<key_id>.pem),
  the public key goes into the trust list the hub signs (`NodeKey` rows → `TrustListDocument`).
- Rotation adds a new key and lets the old one run on for an overlap, so no message is refused while
  senders switch; revocation takes effect with the next trust list a node refreshes.
- A node works on its cached trust list for `TONGBAN_TRUST_GRACE_SECONDS` after its last refresh,
  then refuses every message (fails closed) rather than accept what it cannot check.
- The receiver verifies before anything else and refuses with a code from a closed list.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from tongban import clock, crypto
from tongban.audit.log import record as audit
from tongban.crypto import parallel
from tongban.errors import DomainError
from tongban.exchange.envelope import Envelope, canonical_bytes
from tongban.exchange.models import NodeAddress, NodeKey, TrustListDocument

HUB = "000000"

# The closed list of reasons a receiver refuses an envelope; each goes back to the sender.
REFUSALS = {
    "wrong_recipient": "消息的接收节点不是本节点。",
    "unknown_key": "签名密钥不在信任列表中。",
    "key_revoked": "签名密钥已被吊销。",
    "key_expired": "签名密钥不在有效期内。",
    "bad_signature": "签名验证失败：消息被篡改或伪造。",
    "replayed": "消息时间超出允许的时间窗口（疑似重放）。",
    "trust_list_stale": "本节点的信任列表已过期，暂停接收消息。",
    "unsigned": "消息未签名。",
}

log = logging.getLogger(__name__)


class Refused(DomainError):
    """A message the receiver will not take; `code` is one of REFUSALS."""

    def __init__(self, code: str) -> None:
        super().__init__(code, REFUSALS[code], status=400)


# ---------------------------------------------------------------- keys


def _key_dir(node: str) -> Path:
    return Path(settings.DATA_DIR) / "keys" / node


def _write_private(node: str, key_id: str, key: crypto.SM2PrivateKey) -> None:
    folder = _key_dir(node)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key_id}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.to_pem())


def create_key(node: str, *, overlap: dt.timedelta | None = None) -> NodeKey:
    """A new key pair for `node`; its earlier active keys stay valid for `overlap` (rotation)."""
    private = crypto.generate_keypair()
    public = private.public_key()
    key_id = public.fingerprint()
    now = clock.now()
    overlap = overlap if overlap is not None else dt.timedelta(seconds=settings.TONGBAN_KEY_OVERLAP_SECONDS)
    with transaction.atomic():
        for old in NodeKey.objects.filter(node=node, status=NodeKey.Status.ACTIVE, valid_until__isnull=True):
            old.valid_until = now + overlap
            old.save(update_fields=["valid_until"])
        row = NodeKey.objects.create(node=node, key_id=key_id, public_key=public.to_pem(), valid_from=now)
        _write_private(node, key_id, private)
        audit("tongban.keys.created", node=node, object_type="node_key", object_id=key_id)
        publish()
    _forget_signing_keys()
    return row


def revoke(key_id: str) -> NodeKey:
    with transaction.atomic():
        row = NodeKey.objects.select_for_update().get(key_id=key_id)
        row.status, row.revoked_at = NodeKey.Status.REVOKED, clock.now()
        row.save(update_fields=["status", "revoked_at"])
        audit("tongban.keys.revoked", node=row.node, object_type="node_key", object_id=key_id)
        publish()
    _forget_signing_keys()
    return row


_KEY_CACHE_SECONDS = 30.0  # keys made, rotated or revoked by another process are seen within this time
_key_cache: dict[str, tuple[float, tuple[str, crypto.SM2PrivateKey]]] = {}


def _signing_key(node: str) -> tuple[str, crypto.SM2PrivateKey]:
    cached = _key_cache.get(node)
    if cached is not None and time.monotonic() - cached[0] < _KEY_CACHE_SECONDS:
        return cached[1]
    found = _find_signing_key(node)
    _key_cache[node] = (time.monotonic(), found)
    return found


def _forget_signing_keys() -> None:
    _key_cache.clear()


def _find_signing_key(node: str) -> tuple[str, crypto.SM2PrivateKey]:
    """The node's newest key that this deployment holds the private half of and that is active and
    in force — judged by the trust list (or, at the hub, by the keys it publishes)."""
    now = clock.now()
    listed = current_entries() or {}
    published = {k.key_id: k for k in NodeKey.objects.filter(node=node)}
    files = sorted(_key_dir(node).glob("*.pem"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:
        key_id = path.stem
        entry = listed.get(key_id)
        row = published.get(key_id)
        status = row.status if row else (entry or {}).get("status")
        until = row.valid_until if row else _parse((entry or {}).get("valid_until"))
        if status == NodeKey.Status.ACTIVE and (until is None or until > now):
            return key_id, crypto.load_private_key_pem(path.read_text())
    raise DomainError("no_signing_key", f"节点 {node} 没有可用的签名密钥，请先执行 tongban keys create --node {node}。")


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def signing_key(node: str) -> tuple[str, crypto.SM2PrivateKey]:
    """The key to sign with. The embedded default (one deployment for every node) makes a node's first
    key, and the hub's, on first use; a deployment serving one node must have its keys made for it."""
    try:
        return _signing_key(node)
    except DomainError:
        if settings.TONGBAN_NODE:
            raise
    for needed in dict.fromkeys([HUB, node]):
        if not NodeKey.objects.filter(node=needed, status=NodeKey.Status.ACTIVE).exists():
            create_key(needed)
    return _signing_key(node)


def ensure_keys(nodes: list[str]) -> int:
    """Give every node without a key one (first start of a deployment); returns how many were made."""
    made = 0
    for node in nodes:
        if not NodeKey.objects.filter(node=node, status=NodeKey.Status.ACTIVE).exists():
            create_key(node)
            made += 1
    return made


# ---------------------------------------------------------------- the trust list


def _document() -> dict[str, Any]:
    entries = [
        {
            "node": k.node,
            "key_id": k.key_id,
            "public_key": k.public_key,
            "valid_from": k.valid_from.isoformat(),
            "valid_until": k.valid_until.isoformat() if k.valid_until else None,
            "status": k.status,
        }
        for k in NodeKey.objects.order_by("node", "valid_from", "key_id")
    ]
    addresses = dict(NodeAddress.objects.order_by("node").values_list("node", "url"))
    latest = TrustListDocument.objects.order_by("-version").first()
    return {
        "version": (latest.version + 1) if latest else 1,
        "issued_at": clock.now().isoformat(),
        "entries": entries,
        "addresses": addresses,
    }


def set_address(node: str, url: str) -> NodeAddress:
    """Publish where `node` answers other nodes (its root URL, http or https) with the next trust list."""
    url = url.strip().rstrip("/")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise DomainError("node_address_invalid", f"节点地址须为 http(s):// 开头的根地址：{url}", status=422)
    if len(node) != 6 or not node.isdigit():
        raise DomainError("node_unknown", f"节点代码须为 6 位区划代码：{node}", status=422)
    with transaction.atomic():
        row, _ = NodeAddress.objects.update_or_create(node=node, defaults={"url": url, "updated_at": clock.now()})
        audit("tongban.keys.address_set", node=node, object_type="node_address", object_id=node, data={"url": url})
        publish()
    return row


def _encode(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def publish() -> TrustListDocument | None:
    """The hub signs the current keys as a new trust list version (skipped until the hub has a key)."""
    try:
        hub_key_id, hub_key = _signing_key(HUB)
    except DomainError:
        return None
    document = _document()
    text = _encode(document)
    signature = base64.b64encode(crypto.sign(hub_key, text.encode())).decode()
    row = TrustListDocument.objects.create(
        version=document["version"],
        issued_at=dt.datetime.fromisoformat(document["issued_at"]),
        document=text,
        signature=signature,
        hub_key_id=hub_key_id,
        fetched_at=clock.now(),
    )
    _forget_trust_list()
    return row


def export_signed() -> dict[str, Any]:
    latest = TrustListDocument.objects.order_by("-version").first()
    if latest is None:
        raise DomainError("trust_list_missing", "尚未发布信任列表。", status=404)
    return {"document": json.loads(latest.document), "signature": latest.signature, "hub_key_id": latest.hub_key_id}


def import_signed(signed: dict[str, Any], hub_public_key_pem: str | None = None) -> TrustListDocument:
    """Take a trust list fetched from the hub after checking the hub's signature.

    The hub's key is pinned by the newest list already held (or given on first import)."""
    text = _encode(signed["document"])
    pinned = hub_public_key_pem or _hub_key_pem(signed["hub_key_id"])
    if pinned is None or not crypto.verify(
        crypto.load_public_key_pem(pinned), text.encode(), base64.b64decode(signed["signature"])
    ):
        raise DomainError("trust_list_invalid", "信任列表的国家平台签名无效，已拒绝。")
    version = int(signed["document"]["version"])
    now = clock.now()
    row, created = TrustListDocument.objects.get_or_create(
        version=version,
        defaults={
            "issued_at": dt.datetime.fromisoformat(signed["document"]["issued_at"]),
            "document": text,
            "signature": signed["signature"],
            "hub_key_id": signed["hub_key_id"],
            "fetched_at": now,
        },
    )
    if not created:
        row.fetched_at = now
        row.save(update_fields=["fetched_at"])
    _forget_trust_list()
    return row


def _hub_key_pem(key_id: str) -> str | None:
    held = current_entries()
    entry = held.get(key_id) if held else None
    return entry["public_key"] if entry and entry["node"] == HUB else None


@dataclass(frozen=True)
class TrustList:
    version: int
    fetched_at: dt.datetime
    entries: dict[str, dict[str, Any]]
    addresses: dict[str, str]


_TRUST_CACHE_SECONDS = 30.0  # another process (a `tongban keys` run, a refresh) may publish a newer list
_trust_cache: tuple[float, TrustList | None] | None = None


def _trust_list() -> TrustList | None:
    global _trust_cache
    if _trust_cache is not None and time.monotonic() - _trust_cache[0] < _TRUST_CACHE_SECONDS:
        return _trust_cache[1]
    latest = TrustListDocument.objects.order_by("-version").first()
    held = None
    if latest is not None:
        document = json.loads(latest.document)
        held = TrustList(
            latest.version,
            latest.fetched_at,
            {e["key_id"]: e for e in document["entries"]},
            dict(document.get("addresses") or {}),  # lists signed before addresses were published have none
        )
    _trust_cache = (time.monotonic(), held)
    return held


def _forget_trust_list() -> None:
    global _trust_cache
    _trust_cache = None


def held_version() -> int | None:
    """The version of the trust list this node holds, or None without one."""
    held = _trust_list()
    return held.version if held else None


def usable_signing_key(node: str) -> str:
    """The id of the key `node` would sign with now, without making one (readiness probes)."""
    return _signing_key(node)[0]


def current_entries() -> dict[str, dict[str, Any]] | None:
    held = _trust_list()
    return held.entries if held else None


def node_address(node: str) -> str | None:
    """The root URL the trust list gives for `node`, or None where the hub published none."""
    held = _trust_list()
    return held.addresses.get(node) if held else None


def refresh() -> bool:
    """Check the trust list with the hub: fetch it from TONGBAN_HUB_URL, or, where this deployment is
    the hub itself (the embedded default), confirm the list it holds. True when the list is current."""
    if not settings.TONGBAN_HUB_URL:
        if settings.TONGBAN_NODE and settings.TONGBAN_NODE != HUB:
            return False  # a lone node without a hub address cannot refresh: its grace period runs
        refreshed()
        return True
    import urllib.request

    try:
        with urllib.request.urlopen(
            settings.TONGBAN_HUB_URL.rstrip("/") + "/api/v1/trust-list", timeout=10
        ) as response:
            import_signed(json.loads(response.read()))
    except (OSError, ValueError, KeyError, DomainError) as exc:
        # Keep working on the cache until the grace period ends; operators see why in the log.
        log.warning("trust list refresh from %s failed: %s", settings.TONGBAN_HUB_URL, exc)
        return False
    return True


def refreshed() -> None:
    """The node checked with the hub and its list is current: restart the grace period."""
    TrustListDocument.objects.filter(pk=TrustListDocument.objects.order_by("-version").values("pk")[:1]).update(
        fetched_at=clock.now()
    )
    _forget_trust_list()


def invalidate() -> None:
    _forget_trust_list()
    _forget_signing_keys()
    public_key.cache_clear()


# ---------------------------------------------------------------- signing and verifying envelopes


def is_stale() -> bool:
    """No trust list, or one held past its grace period: nothing may be trusted on it (fail closed)."""
    held = _trust_list()
    return held is None or (_list_from_elsewhere() and clock.now() - held.fetched_at > _grace())


def _list_from_elsewhere() -> bool:
    """A node that gets its trust list from the hub must refresh it; the hub (or the embedded default,
    which hosts the hub) holds the list it signs itself."""
    return bool(settings.TONGBAN_NODE) and settings.TONGBAN_NODE != HUB


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=settings.TONGBAN_TRUST_GRACE_SECONDS)


def sign_envelope(envelope: Envelope) -> Envelope:
    key_id, key = signing_key(envelope.from_node)
    signature = crypto.sign(key, canonical_bytes(envelope.signed(key_id, "")))
    return envelope.signed(key_id, base64.b64encode(signature).decode())


@lru_cache(maxsize=256)
def public_key(pem: str) -> crypto.SM2PublicKey:
    return crypto.load_public_key_pem(pem)


def verify_envelopes_in_stages(
    envelopes: Sequence[Envelope], receiver: str | None = None
) -> Iterator[dict[int, Refused | None]]:
    """The verdicts by index, a part at a time and in order: first those refused without any
    cryptography, then the signatures, verified together on every core (see crypto.parallel).
    `receiver` None: each envelope is checked against its own to_node (the embedded default)."""
    refused: dict[int, Refused | None] = {}
    to_verify: list[tuple[int, parallel.Item]] = []
    for index, envelope in enumerate(envelopes):
        try:
            to_verify.append((index, _signed_material(envelope, receiver or envelope.to_node)))
        except Refused as refusal:
            refused[index] = refusal
    if refused:
        yield refused
    position = 0
    for share in parallel.verify_in_stages([item for _index, item in to_verify]):
        indexes = [index for index, _item in to_verify[position : position + len(share)]]
        position += len(share)
        yield {index: None if ok else Refused("bad_signature") for index, ok in zip(indexes, share, strict=True)}


def verify_envelope(envelope: Envelope, receiver: str) -> Refused | None:
    """One envelope's verdict, checked here and now (a request answered at once, not a batch)."""
    try:
        key, data, signature = _signed_material(envelope, receiver)
    except Refused as refusal:
        return refusal
    return None if crypto.verify(key, data, signature) else Refused("bad_signature")


def warm_envelopes(envelopes: Sequence[Envelope]) -> None:
    """Start verifying these envelopes' signatures in the background (see crypto.parallel.warm): for a
    receiver in this same process, which will be asked about them soon. Refusals are left for then."""
    items = []
    for envelope in envelopes:
        try:
            items.append(_signed_material(envelope, envelope.to_node))
        except Refused:
            continue
    parallel.warm(items)


def _signed_material(envelope: Envelope, receiver: str) -> parallel.Item:
    """Every check but the signature itself; returns what the signature must verify against."""
    if envelope.to_node != receiver:
        raise Refused("wrong_recipient")
    if not envelope.signature or not envelope.key_id:
        raise Refused("unsigned")
    held = _trust_list()
    now = clock.now()
    if is_stale():
        raise Refused("trust_list_stale")
    entry = held.entries.get(envelope.key_id)
    if entry is None or entry["node"] != envelope.from_node:
        raise Refused("unknown_key")
    if entry["status"] != NodeKey.Status.ACTIVE:
        raise Refused("key_revoked")
    valid_from = dt.datetime.fromisoformat(entry["valid_from"])
    valid_until = dt.datetime.fromisoformat(entry["valid_until"]) if entry["valid_until"] else None
    if envelope.created_at < valid_from or (valid_until is not None and envelope.created_at >= valid_until):
        raise Refused("key_expired")
    if abs(now - envelope.created_at) > dt.timedelta(seconds=settings.TONGBAN_REPLAY_WINDOW_SECONDS):
        raise Refused("replayed")
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except ValueError:
        raise Refused("bad_signature") from None
    return public_key(entry["public_key"]), canonical_bytes(envelope), signature
