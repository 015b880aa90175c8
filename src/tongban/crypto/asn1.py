"""The small part of DER that SM2 keys and signatures need: strict decoding, canonical encoding.

Decoding raises ValueError on anything that is not canonical DER (indefinite or non-minimal lengths,
non-minimal integers, trailing bytes); callers turn that into a typed error or a False.
"""

from __future__ import annotations

from dataclasses import dataclass

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
CONTEXT_0 = 0xA0
CONTEXT_1 = 0xA1


@dataclass(frozen=True, slots=True)
class Element:
    tag: int
    content: bytes


# Encoding


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative integers are not used here")
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return encode(INTEGER, body)


def encode_oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode(OBJECT_IDENTIFIER, bytes(body))


def encode_bit_string(data: bytes) -> bytes:
    return encode(BIT_STRING, b"\x00" + data)


def encode_sequence(*parts: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(parts))


# Decoding


def _read_length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise ValueError("truncated length")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError("indefinite or oversized length")
    if offset + count > len(data):
        raise ValueError("truncated length")
    length = int.from_bytes(data[offset : offset + count], "big")
    if length < 0x80 or data[offset] == 0:
        raise ValueError("non-minimal length")
    return length, offset + count


def read_element(data: bytes, offset: int = 0) -> tuple[Element, int]:
    """One TLV at `offset`; returns it and the offset just after it."""
    if offset >= len(data):
        raise ValueError("truncated element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not used here")
    length, start = _read_length(data, offset + 1)
    end = start + length
    if end > len(data):
        raise ValueError("truncated content")
    return Element(tag, data[start:end]), end


def decode_single(data: bytes, tag: int) -> bytes:
    """The content of the one element that `data` must consist of, with the expected tag."""
    element, end = read_element(data)
    if end != len(data):
        raise ValueError("trailing bytes")
    if element.tag != tag:
        raise ValueError(f"expected tag 0x{tag:02x}, got 0x{element.tag:02x}")
    return element.content


def decode_children(content: bytes) -> list[Element]:
    children: list[Element] = []
    offset = 0
    while offset < len(content):
        element, offset = read_element(content, offset)
        children.append(element)
    return children


def decode_sequence(data: bytes) -> list[Element]:
    return decode_children(decode_single(data, SEQUENCE))


def decode_integer(element: Element) -> int:
    """A non-negative INTEGER in minimal form."""
    if element.tag != INTEGER:
        raise ValueError("expected INTEGER")
    content = element.content
    if not content:
        raise ValueError("empty INTEGER")
    if content[0] & 0x80:
        raise ValueError("negative INTEGER")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise ValueError("non-minimal INTEGER")
    return int.from_bytes(content, "big")


def decode_oid(element: Element) -> str:
    if element.tag != OBJECT_IDENTIFIER or not element.content:
        raise ValueError("expected OBJECT IDENTIFIER")
    content = element.content
    if content[-1] & 0x80:
        raise ValueError("truncated OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for index, byte in enumerate(content):
        if value == 0 and byte == 0x80 and (index == 0 or not content[index - 1] & 0x80):
            raise ValueError("non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def decode_bit_string(element: Element) -> bytes:
    """A BIT STRING with no unused bits (keys are whole bytes)."""
    if element.tag != BIT_STRING or not element.content:
        raise ValueError("expected BIT STRING")
    if element.content[0] != 0:
        raise ValueError("BIT STRING with unused bits")
    return element.content[1:]
