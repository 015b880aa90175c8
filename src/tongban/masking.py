"""Masking of personal data for display (GB/T 35273: de-identify on display).

ID and phone numbers have their own maskers in identity.validators; everything else the catalog marks
`personal` (names, bank accounts, addresses) is masked here, by its shape rather than its meaning.
"""

from __future__ import annotations

from tongban.identity.validators import mask_id_number, mask_phone

MASK = "*"


def mask_text(value: str) -> str:
    """张涛 → 张*; 6222021234567890 → 6222********7890; 北京市朝阳区建国路1号 → 北京市朝阳区*****.

    Short values (names) keep the first character; long digit strings (account numbers) their first and
    last four; other text its first third, at most six characters.
    """
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) <= 4:
        return text[0] + MASK * (len(text) - 1)
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit() and len(compact) >= 12:
        return compact[:4] + MASK * (len(compact) - 8) + compact[-4:]
    shown = min(6, len(text) // 3)
    return text[:shown] + MASK * (len(text) - shown)


def mask_field(field_type: str, value: str) -> str:
    if field_type == "id_number":
        return mask_id_number(value)
    if field_type == "phone":
        return mask_phone(value)
    return mask_text(value)
