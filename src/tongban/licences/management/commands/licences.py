"""`tongban licences verify-qr <text>|-` (the offline check of a scanned licence QR code) and
`tongban licences qr <identifier>` (a freshly signed code for a licence kept here)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.cases.views import iso
from tongban.errors import DomainError
from tongban.licences.issuing import OPEN_ENDED
from tongban.licences.qr import QrClaims, qr_text, verify_qr
from tongban.licences.services import find_licence


class Command(BaseCommand):
    help = "电子证照：离线核验二维码（有效时退出码为 0，否则为 1），或为本节点保存的证照生成签名二维码文本。"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        verify = sub.add_parser("verify-qr", help="只用本节点保存的信任列表核验二维码文本（- 表示从标准输入读取）")
        verify.add_argument("text")
        make = sub.add_parser("qr", help="为本节点保存的一张证照生成签名二维码文本")
        make.add_argument("identifier")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        if verb == "verify-qr":
            self._verify_qr(options["text"])
        else:
            self._qr(options["identifier"])

    def _verify_qr(self, text: str) -> None:
        if text == "-":
            text = sys.stdin.read()
        try:
            verdict = verify_qr(text)
        except DomainError as error:
            self.stderr.write(error.detail)
            raise SystemExit(1) from None
        self.stdout.write(f"核验结果：{verdict.summary}")
        if verdict.claims is not None:
            for line in _claim_lines(verdict.claims):
                self.stdout.write(line)
        if verdict.code != "valid":
            raise SystemExit(1)

    def _qr(self, identifier: str) -> None:
        try:
            self.stdout.write(qr_text(find_licence(identifier)))
        except DomainError as error:
            raise CommandError(error.detail) from None


def _claim_lines(claims: QrClaims) -> list[str]:
    until = claims.valid_until.isoformat() if claims.valid_until else OPEN_ENDED
    return [
        f"证照名称：{claims.type_name}（类型代码 {claims.type_code}）",
        f"证照标识：{claims.identifier}",
        f"持证主体：{claims.holder}",
        f"有效期：{claims.valid_from.isoformat()} 至 {until}",
        f"颁发机构：{claims.issuer_name}（签发节点 {claims.issuer_node}）",
        f"颁发时间：{iso(claims.issued_at)}",
        f"签名时间：{iso(claims.signed_at)}",
        f"签名密钥：{claims.key_id}",
    ]
