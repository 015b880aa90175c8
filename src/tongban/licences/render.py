"""A licence as a page to print (PDF, A4), with its signed QR code; an annotated copy (加注件) carries
the grade-A watermark across the page (docs/licences.md, ADR 7).

Text is set in STSong-Light, one of the CJK fonts every PDF reader must supply (ISO 32000, Adobe-GB1),
so no font file is needed to make the page and none is embedded.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from tongban import clock
from tongban.clock import CHINA_TZ
from tongban.licences.issuing import OPEN_ENDED
from tongban.licences.models import Licence, LicenceHolder
from tongban.licences.qr import qr_text

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# GB/T 36903-2018 metadata, in the standard's order, with the labels printed on the page.
METADATA_LABELS = {
    "ZZMC": "证照名称",
    "ZZLXDM": "证照类型代码",
    "ZZBH": "证照编号",
    "ZZBS": "证照标识",
    "ZZBFJG": "证照颁发机构",
    "ZZBFJGDM": "证照颁发机构代码",
    "ZZBFRQ": "证照颁发日期",
    "CZZT": "持证主体",
    "CZZTDM": "持证主体代码",
    "CZZTDMLX": "持证主体代码类型",
    "ZZYXQQSRQ": "证照有效期起始日期",
    "ZZYXQJZRQ": "证照有效期截止日期",
    "ZZQZR": "证照签章人",
    "ZZQZSJ": "证照签章时间",
    "ZZQZMC": "证照签章名称",
    "CJSJ": "创建时间",
}
ANNOTATION_LABELS = {
    "JZJZZSJ": "加注时间",
    "JZJZZZ": "加注者",
    "JZJZZSY": "加注事由",
    "JZJYXQJZSJ": "有效期截止时间",
}
WATERMARK = "此件由{provider}提供，仅供办理{item}时使用，有效期至{date}"
QR_SIZE = 38 * mm
QR_PIXELS_PER_MODULE = 6
MARGIN = 18 * mm
GRID = colors.HexColor("#9a9a9a")
MUTED = colors.HexColor("#555555")


@dataclass(frozen=True)
class Annotation:
    """What makes a copy a 加注件: who provides it, for which item, until when (and when it was made)."""

    provider: str
    item: str
    valid_until: dt.date
    made_at: dt.datetime | None = None

    @property
    def watermark(self) -> str:
        return WATERMARK.format(provider=self.provider, item=self.item, date=_chinese_date(self.valid_until))

    def fields(self, made_at: dt.datetime) -> dict[str, str]:
        return {
            "JZJZZSJ": made_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "JZJZZZ": self.provider,
            "JZJZZSY": f"办理{self.item}",
            "JZJYXQJZSJ": self.valid_until.isoformat(),
        }


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _style(size: float, *, leading: float | None = None, color: colors.Color = colors.black, align: int = 0):
    return ParagraphStyle(
        f"licence-{size}-{align}",
        fontName=FONT,
        fontSize=size,
        leading=leading or size * 1.4,
        textColor=color,
        alignment=align,
        wordWrap="CJK",
    )


TITLE = _style(26, leading=34, align=1)
SUBTITLE = _style(10, color=MUTED, align=1)
HEADING = _style(12, leading=18)
CELL = _style(9.5)
LABEL = _style(9, color=MUTED)
NOTE = _style(8, color=MUTED)


def _text(value: str, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def face_fields(licence: Licence) -> list[tuple[str, str]]:
    """(label, value) of every face field: the metadata in the standard's order, then the type's
    extensions in their order, then any other field under its own name."""
    data = licence.data
    extensions = {e["name"]: e["label"] for e in licence.licence_type.extensions}
    rows = [(label, str(data[name])) for name, label in METADATA_LABELS.items() if name in data]
    rows += [(label, str(data[name])) for name, label in extensions.items() if name in data]
    known = METADATA_LABELS.keys() | extensions.keys()
    rows += [(name, str(value)) for name, value in data.items() if name not in known]
    return rows


PAIRED = (0.19, 0.31, 0.19, 0.31)  # of the width: two label-value pairs to a row


def _grid(rows: list[list[Flowable | str]], widths: tuple[float, ...], spans: list[int]) -> Table:
    table = Table(rows, colWidths=widths)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    style += [("SPAN", (1, row), (3, row)) for row in spans]
    table.setStyle(TableStyle(style))
    return table


def _fields_table(fields: list[tuple[str, str]], width: float) -> Table:
    """Label and value, two pairs to a row where both values fit on one line, in the fields' order."""
    widths = tuple(share * width for share in PAIRED)
    room = widths[1] - 12

    def short(value: str) -> bool:
        return "\n" not in value and pdfmetrics.stringWidth(value, FONT, CELL.fontSize) <= room

    rows: list[list[Flowable | str]] = []
    spans: list[int] = []
    waiting: tuple[str, str] | None = None
    for label, value in fields:
        if waiting is not None and short(value):
            rows.append([_text(waiting[0], LABEL), _text(waiting[1]), _text(label, LABEL), _text(value)])
            waiting = None
            continue
        if waiting is not None:
            spans.append(len(rows))
            rows.append([_text(waiting[0], LABEL), _text(waiting[1]), "", ""])
            waiting = None
        if short(value):
            waiting = (label, value)
        else:
            spans.append(len(rows))
            rows.append([_text(label, LABEL), _text(value), "", ""])
    if waiting is not None:
        spans.append(len(rows))
        rows.append([_text(waiting[0], LABEL), _text(waiting[1]), "", ""])
    return _grid(rows, widths, spans)


def _holders(holders: list[LicenceHolder], width: float) -> Table:
    header = [_text(t, LABEL) for t in ("称谓", "持证主体", "代码类型", "代码")]
    rows = [[_text(h.label or "—"), _text(h.name), _text(h.id_kind), _text(h.id_number)] for h in holders]
    table = Table([header, *rows], colWidths=(0.14 * width, 0.36 * width, 0.2 * width, 0.3 * width))
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _validity(licence: Licence) -> str:
    until = licence.valid_until.isoformat() if licence.valid_until else OPEN_ENDED
    return f"{licence.valid_from.isoformat()} 至 {until}"


def qr_code(text: str) -> segno.QRCode:
    """The QR code of `text`: level M at least (segno raises it where the same version allows)."""
    return segno.make(text, error="m", micro=False)


def qr_png(text: str) -> bytes:
    """The QR code of `text` as a black-and-white PNG, whole pixels per module, quiet zone of 4."""
    buffer = io.BytesIO()
    qr_code(text).save(buffer, kind="png", scale=QR_PIXELS_PER_MODULE, border=4)
    return buffer.getvalue()


def _signature_block(licence: Licence, text: str, width: float) -> Table:
    issued = licence.issued_at.astimezone(CHINA_TZ)
    lines = [
        f"颁发机构：{licence.issuer_name}（签发节点 {licence.node}）",
        f"颁发日期：{_chinese_date(issued.date())}",
        f"有效期：{_validity(licence)}",
        f"证照标识：{licence.identifier}",
    ]
    notes = [
        "右侧二维码载有本证照的摘要与签发节点的 SM2 签名，扫码可离线核验签名（持证主体已遮蔽）。",
        "证照当前状态（暂扣、撤销、注销等）以颁发机构为准，请通过“核验电子证照”向签发节点查询。",
    ]
    left: list[Flowable] = [_text(line) for line in lines]
    left += [Spacer(1, 3 * mm), *[_text(note, NOTE) for note in notes]]
    image = Image(io.BytesIO(qr_png(text)), width=QR_SIZE, height=QR_SIZE)
    right = [image, _text("扫码核验签名", _style(8, color=MUTED, align=1))]
    table = Table([[left, right]], colWidths=(width - QR_SIZE - 6 * mm, QR_SIZE + 6 * mm))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _story(licence: Licence, annotation: Annotation | None, holders: list[LicenceHolder], qr: str) -> list[Flowable]:
    width = A4[0] - 2 * MARGIN
    subtitle = "电子证照（加注件）" if annotation else "电子证照"
    story: list[Flowable] = [
        _text(licence.licence_type.name, TITLE),
        _text(subtitle, SUBTITLE),
        Spacer(1, 5 * mm),
        _text("照面信息", HEADING),
        _fields_table(face_fields(licence), width),
        Spacer(1, 4 * mm),
        _text("持证主体", HEADING),
        _holders(holders, width),
    ]
    if annotation is not None:
        made_at = annotation.made_at or clock.now()
        rows = [(ANNOTATION_LABELS[name], value) for name, value in annotation.fields(made_at).items()]
        story += [Spacer(1, 4 * mm), _text("加注信息", HEADING), _fields_table(rows, width)]
        story.append(_text(annotation.watermark))
    story += [Spacer(1, 6 * mm), _signature_block(licence, qr, width)]
    return story


def _watermark(text: str):
    """Draw `text` diagonally across the page, over the content, in light grey."""

    def draw(canvas: Canvas, _document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#c0392b"))
        canvas.setFillAlpha(0.18)
        canvas.setFont(FONT, 15)
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(35)
        for row in range(-5, 6):
            canvas.drawCentredString(0, row * 32 * mm, text)
        canvas.restoreState()

    return draw


def render_pdf(
    licence: Licence,
    annotation: Annotation | None = None,
    *,
    holders: list[LicenceHolder] | None = None,
    qr: str | None = None,
) -> bytes:
    """The licence as a one-page A4 PDF; with `annotation`, the watermarked 加注件. A copy received
    from another node (not saved here) brings its `holders` and the `qr` text its issuer signed; a
    licence kept here has its code signed now by this node."""
    if holders is None:
        holders = list(licence.holders.order_by("order"))
    if qr is None:
        qr = qr_text(licence)
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=licence.licence_type.name + ("（加注件）" if annotation else ""),
        author=licence.issuer_name,
        subject=licence.identifier,
        creator="tongban",
        lang="zh-CN",
    )
    frame = Frame(MARGIN, MARGIN, A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN, id="licence")
    if annotation is None:
        template = PageTemplate("licence", [frame])
    else:
        template = PageTemplate("annotated", [frame], onPageEnd=_watermark(annotation.watermark))
    document.addPageTemplates([template])
    document.build(_story(licence, annotation, holders, qr))
    return buffer.getvalue()
