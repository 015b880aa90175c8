"""A licence as a printable PDF: one page, every face field with its label, the holders, the QR code
that decodes to a verifying payload, and the watermark of an annotated copy."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import pypdf
import pytest
import zxingcpp

from licences.test_qr import VALID_SUMMARY, business, marriage_licence
from tongban.clock import CHINA_TZ
from tongban.licences import qr
from tongban.licences.models import Licence
from tongban.licences.render import METADATA_LABELS, Annotation, face_fields, render_pdf

from support import Api


def page_text(pdf: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, reader.pages[0].extract_text()


def decoded_codes(pdf: bytes) -> list[str]:
    """The QR codes the page's images decode to."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found = []
    for image in reader.pages[0].images:
        found += [code.text for code in zxingcpp.read_barcodes(image.image) if code.format == zxingcpp.QRCode]
    return found


def test_the_marriage_licence_is_one_page_with_every_field_and_both_parties():
    licence = marriage_licence()
    pdf = render_pdf(licence)
    assert pdf.startswith(b"%PDF-")
    reader, text = page_text(pdf)
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    assert "结婚证" in text and licence.identifier in text
    assert "王杰" in text and "刘燕" in text and "140107199408120412" in text
    for label, value in face_fields(licence):
        assert label in text and value in text, label
    assert "男方姓名" in text and "女方公民身份号码" in text  # the type's extension labels
    assert "颁发机构：南京市民政局（签发节点 320000）" in text and "有效期：2025-06-09 至 长期" in text
    assert "颁发日期：2025年6月9日" in text
    assert "此件由" not in text and "加注" not in text
    assert reader.metadata.title == "结婚证" and reader.metadata.subject == licence.identifier


def test_every_metadata_field_present_is_labelled():
    licence = business()
    labels = [label for label, _ in face_fields(licence)]
    names = [name for name in METADATA_LABELS if name in licence.data]
    assert labels[: len(names)] == [METADATA_LABELS[name] for name in names]
    assert labels[len(names) :] == [e["label"] for e in licence.licence_type.extensions if e["name"] in licence.data]
    assert "KZ_" not in " ".join(labels)


def test_the_qr_code_on_the_page_decodes_to_a_code_that_verifies():
    licence = marriage_licence()
    [scanned] = decoded_codes(render_pdf(licence))
    verdict = qr.verify_qr(scanned)
    assert verdict.summary == VALID_SUMMARY and verdict.claims.identifier == licence.identifier


def test_a_long_business_scope_wraps_and_stays_on_one_page():
    licence = business()
    scope = "新能源技术开发、技术咨询、技术服务；太阳能发电设备销售；储能技术服务；" * 4
    Licence.objects.filter(pk=licence.pk).update(data={**licence.data, "KZ_JYFW": scope})
    licence.refresh_from_db()
    reader, text = page_text(render_pdf(licence))
    assert len(reader.pages) == 1
    assert "经营范围" in text and "西宁高原新能源科技有限公司" in text
    assert "储能技术服务" in text.replace("\n", "")


def test_the_annotated_copy_carries_the_watermark_and_the_annotation_fields():
    licence = marriage_licence()
    made_at = dt.datetime(2025, 6, 10, 14, 30, tzinfo=CHINA_TZ)
    annotation = Annotation("南京市民政局", "户口迁移", dt.date(2025, 7, 9), made_at=made_at)
    pdf = render_pdf(licence, annotation)
    reader, text = page_text(pdf)
    watermark = "此件由南京市民政局提供，仅供办理户口迁移时使用，有效期至2025年7月9日"
    assert annotation.watermark == watermark
    assert len(reader.pages) == 1
    # Once in the annotation block, and eleven times across the page (rotated text pypdf reads too).
    assert text.count(watermark) >= 2
    for label, value in (
        ("加注时间", "2025-06-10 14:30:00"),
        ("加注者", "南京市民政局"),
        ("加注事由", "办理户口迁移"),
        ("有效期截止时间", "2025-07-09"),
    ):
        assert label in text and value in text
    assert "电子证照（加注件）" in text and reader.metadata.title == "结婚证（加注件）"
    assert decoded_codes(pdf)  # the watermark does not hide the code


def test_the_pdf_endpoint_answers_the_holder_a_named_attachment():
    licence = marriage_licence()
    response = Api("liuyan", node="320000").get(f"/licenses/{licence.identifier}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"filename*=utf-8''{quote('结婚证-' + licence.number + '.pdf')}" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    reader, text = page_text(response.content)
    assert len(reader.pages) == 1 and licence.identifier in text
    staff = Api("js-minzheng-approver", node="320000").get(f"/licenses/{licence.identifier}/pdf")
    assert staff.status_code == 200 and staff.content.startswith(b"%PDF-")
