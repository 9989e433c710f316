"""Minimal, strict CDR reader for sensor_msgs/msg/Image and sensor_msgs/msg/CompressedImage.

The node subscribes to cameras with ``raw=True`` and gets the serialized bytes. A 30 fps 1080p camera
sends ~190 MB/s; deserializing every frame into a Python message only to drop most of them is the main
ingest cost. This module reads the header stamp alone (``peek_stamp``), and for the frames actually
used returns the fields with ``data`` as a zero-copy memoryview into the received buffer.

Wire format (XCDR1, "plain CDR", as rmw_fastrtps and rmw_cyclonedds emit for these final types):
a 4-byte encapsulation header (0x0000 big endian, 0x0001 little endian, then 2 option bytes), then the
fields, each aligned to its own size counted from the end of the encapsulation header. Strings are a
uint32 length that includes the trailing NUL, then the bytes; ``uint8[]`` is a uint32 count, then bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from omni_ros.errors import ConversionError

_ENCAPSULATION_SIZE = 4
_CDR_BE = 0x0000
_CDR_LE = 0x0001
# Anything longer in frame_id / encoding / format is a corrupt length field, not a real name.
_MAX_NAME_BYTES = 4096
# Serializers may pad the message end to a multiple of 4; more trailing bytes mean a wrong layout.
_MAX_TRAILING_BYTES = 3


@dataclass(frozen=True)
class RawImage:
    """The fields of a serialized sensor_msgs/Image; ``data`` views the serialized buffer (no copy)."""

    stamp: float
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: bool
    step: int
    data: memoryview


@dataclass(frozen=True)
class RawCompressedImage:
    """The fields of a serialized sensor_msgs/CompressedImage; ``data`` views the buffer (no copy)."""

    stamp: float
    frame_id: str
    format: str
    data: memoryview


class _Reader:
    """Sequential reader over one serialized message; every read is bounds-checked."""

    def __init__(self, raw: bytes | bytearray | memoryview, what: str) -> None:
        view = memoryview(raw)
        if view.format != 'B' or view.ndim != 1:
            view = view.cast('B')
        self._buf = view
        self._what = what
        if len(view) < _ENCAPSULATION_SIZE:
            raise ConversionError(
                f'serialized {what} is {len(view)} bytes, shorter than the 4-byte CDR encapsulation '
                'header; pass the bytes of a raw=True subscription unchanged')
        kind = (view[0] << 8) | view[1]
        if kind == _CDR_LE:
            self._prefix = '<'
        elif kind == _CDR_BE:
            self._prefix = '>'
        else:
            raise ConversionError(
                f'serialized {what} has CDR encapsulation 0x{kind:04x}; only XCDR1 plain CDR '
                '(0x0000 big endian, 0x0001 little endian) is read here, as rmw_fastrtps and '
                'rmw_cyclonedds send; deserialize other encodings with rclpy.serialization')
        self._pos = _ENCAPSULATION_SIZE

    def _need(self, size: int, field: str) -> None:
        if size > len(self._buf) - self._pos:
            raise ConversionError(
                f'serialized {self._what} is truncated: {field} needs {size} bytes at offset '
                f'{self._pos} but only {len(self._buf) - self._pos} remain (message is '
                f'{len(self._buf)} bytes); the message was cut or is not a {self._what}')

    def _align(self, size: int) -> None:
        # Alignment counts from the end of the encapsulation header, not from the buffer start.
        rel = self._pos - _ENCAPSULATION_SIZE
        self._pos += (-rel) % size

    def _scalar(self, code: str, size: int, field: str) -> int:
        self._align(size)
        self._need(size, field)
        (value,) = struct.unpack_from(self._prefix + code, self._buf, self._pos)
        self._pos += size
        return int(value)

    def int32(self, field: str) -> int:
        return self._scalar('i', 4, field)

    def uint32(self, field: str) -> int:
        return self._scalar('I', 4, field)

    def uint8(self, field: str) -> int:
        self._need(1, field)
        value = self._buf[self._pos]
        self._pos += 1
        return value

    def string(self, field: str) -> str:
        length = self.uint32(f'{field} length')
        if length == 0:
            # Not spec (the NUL is counted) but some writers emit it for an empty string.
            return ''
        if length > _MAX_NAME_BYTES:
            raise ConversionError(
                f'serialized {self._what} has {field} length {length} at offset {self._pos - 4}; a name '
                f'longer than {_MAX_NAME_BYTES} bytes means the message is corrupt or not a '
                + self._what)
        self._need(length, field)
        end = self._pos + length
        if self._buf[end - 1] != 0:
            raise ConversionError(
                f'serialized {self._what} has {field} without its NUL terminator at offset {end - 1}; '
                'the message is corrupt or not a ' + self._what)
        raw = self._buf[self._pos:end - 1]
        self._pos = end
        try:
            return str(raw, 'utf-8')
        except UnicodeDecodeError as exc:
            raise ConversionError(
                f'serialized {self._what} has a {field} that is not UTF-8 ({exc.reason} at byte '
                f'{exc.start}); the message is corrupt') from None

    def octets(self, field: str) -> memoryview:
        count = self.uint32(f'{field} length')
        self._need(count, field)
        view = self._buf[self._pos:self._pos + count]
        self._pos += count
        return view

    def stamp(self) -> float:
        sec = self.int32('header.stamp.sec')
        nanosec = self.uint32('header.stamp.nanosec')
        if nanosec >= 1_000_000_000:
            raise ConversionError(
                f'serialized {self._what} has header.stamp.nanosec = {nanosec}, which must be below '
                '1e9; the message is corrupt or the publisher fills the stamp wrongly')
        return sec + nanosec * 1e-9

    def finish(self) -> None:
        extra = len(self._buf) - self._pos
        if extra > _MAX_TRAILING_BYTES:
            raise ConversionError(
                f'serialized {self._what} has {extra} bytes after its last field (at most '
                f'{_MAX_TRAILING_BYTES} bytes of padding are expected); it is not a {self._what} '
                'or the type on this topic differs')


def peek_stamp(raw: bytes | bytearray | memoryview) -> float:
    """Header stamp in seconds of a serialized Image or CompressedImage; reads only the first 12 bytes."""
    return _Reader(raw, 'sensor_msgs/Image or CompressedImage').stamp()


def parse_image(raw: bytes | bytearray | memoryview) -> RawImage:
    """Every field of a serialized sensor_msgs/Image; pixel data is a view into ``raw``."""
    r = _Reader(raw, 'sensor_msgs/Image')
    stamp = r.stamp()
    frame_id = r.string('header.frame_id')
    height = r.uint32('height')
    width = r.uint32('width')
    encoding = r.string('encoding')
    is_bigendian = r.uint8('is_bigendian')
    step = r.uint32('step')
    data = r.octets('data')
    r.finish()
    # Only 0/1 are meaningful; anything else means the fields are misaligned.
    if is_bigendian > 1:
        raise ConversionError(
            f'serialized sensor_msgs/Image has is_bigendian = {is_bigendian} (must be 0 or 1); the '
            'message is corrupt or the type on this topic is not sensor_msgs/Image')
    return RawImage(stamp, frame_id, height, width, encoding, bool(is_bigendian), step, data)


def parse_compressed_image(raw: bytes | bytearray | memoryview) -> RawCompressedImage:
    """Every field of a serialized sensor_msgs/CompressedImage; ``data`` is a view into ``raw``."""
    r = _Reader(raw, 'sensor_msgs/CompressedImage')
    stamp = r.stamp()
    frame_id = r.string('header.frame_id')
    fmt = r.string('format')
    data = r.octets('data')
    r.finish()
    return RawCompressedImage(stamp, frame_id, fmt, data)
