"""cdr.py against real serialized messages (rclpy / Fast CDR) and against broken bytes."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image

from omni_ros.ingest import cdr
from omni_ros.errors import ConversionError

pytestmark = pytest.mark.node  # ROS messages in this process, no other process


def make_image(*, sec: int = 1_700_000_000, nanosec: int = 123_456_789, frame_id: str = 'camera_optical',
               height: int = 2, width: int = 3, encoding: str = 'rgb8', is_bigendian: int = 0,
               step: int | None = None, data: bytes | None = None) -> Image:
    msg = Image()
    msg.header.stamp.sec = sec
    msg.header.stamp.nanosec = nanosec
    msg.header.frame_id = frame_id
    msg.height, msg.width, msg.encoding, msg.is_bigendian = height, width, encoding, is_bigendian
    msg.step = width * 3 if step is None else step
    msg.data = bytes((i * 7) % 256 for i in range(msg.step * height)) if data is None else data
    return msg


def make_compressed(*, sec: int = 42, nanosec: int = 5, frame_id: str = 'cam', fmt: str = 'rgb8; jpeg compressed bgr8',
                    data: bytes = b'\xff\xd8\xff\xe0 not really a jpeg') -> CompressedImage:
    msg = CompressedImage()
    msg.header.stamp.sec = sec
    msg.header.stamp.nanosec = nanosec
    msg.header.frame_id = frame_id
    msg.format = fmt
    msg.data = data
    return msg


def assert_image_fields(parsed: cdr.RawImage, msg: Image, raw: bytes) -> None:
    assert parsed.stamp == pytest.approx(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, abs=1e-9)
    assert parsed.frame_id == msg.header.frame_id
    assert (parsed.height, parsed.width, parsed.step) == (msg.height, msg.width, msg.step)
    assert parsed.encoding == msg.encoding
    assert parsed.is_bigendian is bool(msg.is_bigendian)
    assert bytes(parsed.data) == bytes(msg.data)
    # Zero copy: the pixel view points into the serialized buffer itself.
    if len(parsed.data):
        assert np.shares_memory(np.frombuffer(parsed.data, np.uint8), np.frombuffer(raw, np.uint8))


# frame_id and encoding lengths 0..4 walk every padding case before the following uint32 fields.
@pytest.mark.parametrize('frame_id', ['', 'a', 'ab', 'abc', 'abcd', 'kamera_ü_日本'])
@pytest.mark.parametrize('encoding', ['rgb8', 'mono8', 'bgra16', 'yuv422_yuy2', 'x'])
def test_image_round_trip_alignment(frame_id: str, encoding: str) -> None:
    msg = make_image(frame_id=frame_id, encoding=encoding)
    raw = serialize_message(msg)
    assert_image_fields(cdr.parse_image(raw), msg, raw)


@pytest.mark.parametrize('height,width,step,is_bigendian', [
    (1, 1, 3, 0), (2, 3, 12, 1), (480, 640, 1920, 0), (7, 5, 16, 1), (1, 1, 0, 0),
])
def test_image_round_trip_sizes(height: int, width: int, step: int, is_bigendian: int) -> None:
    msg = make_image(height=height, width=width, step=step, is_bigendian=is_bigendian,
                     data=None if step else b'')
    raw = serialize_message(msg)
    assert_image_fields(cdr.parse_image(raw), msg, raw)


@pytest.mark.parametrize('sec,nanosec', [(0, 0), (1, 999_999_999), (-5, 250_000_000), (2_147_483_647, 1)])
def test_peek_stamp(sec: int, nanosec: int) -> None:
    for msg in (make_image(sec=sec, nanosec=nanosec), make_compressed(sec=sec, nanosec=nanosec)):
        assert cdr.peek_stamp(serialize_message(msg)) == pytest.approx(sec + nanosec * 1e-9, abs=1e-9)


def test_peek_stamp_reads_only_the_header() -> None:
    raw = serialize_message(make_image(sec=12, nanosec=500_000_000))
    assert cdr.peek_stamp(raw[:12]) == 12.5
    assert cdr.peek_stamp(memoryview(raw)) == 12.5
    assert cdr.peek_stamp(bytearray(raw)) == 12.5


@pytest.mark.parametrize('fmt', ['jpeg', 'png', 'rgb8; jpeg compressed bgr8', '', '16UC1; compressedDepth png'])
@pytest.mark.parametrize('data', [b'', b'\x01', b'\xff\xd8\xff' + bytes(range(256)) * 3])
def test_compressed_round_trip(fmt: str, data: bytes) -> None:
    msg = make_compressed(fmt=fmt, data=data, frame_id='front')
    raw = serialize_message(msg)
    parsed = cdr.parse_compressed_image(raw)
    assert parsed.stamp == pytest.approx(42 + 5e-9, abs=1e-9)
    assert (parsed.frame_id, parsed.format, bytes(parsed.data)) == ('front', fmt, data)
    if data:
        assert np.shares_memory(np.frombuffer(parsed.data, np.uint8), np.frombuffer(raw, np.uint8))


def test_big_endian_bytes_from_another_serializer() -> None:
    # rosbags (pure Python) writes big-endian CDR, which Fast DDS never does on x86.
    from rosbags.typesys import Stores, get_typestore
    store = get_typestore(Stores.ROS2_KILTED)
    header = store.types['std_msgs/msg/Header'](
        stamp=store.types['builtin_interfaces/msg/Time'](sec=77, nanosec=250_000_000), frame_id='be')
    data = np.arange(2 * 4 * 2, dtype=np.uint8)
    msg = store.types['sensor_msgs/msg/Image'](header=header, height=2, width=4, encoding='mono16',
                                               is_bigendian=1, step=8, data=data)
    raw = store.serialize_cdr(msg, 'sensor_msgs/msg/Image', little_endian=False)
    assert raw[:2] == b'\x00\x00'
    parsed = cdr.parse_image(raw)
    assert (parsed.stamp, parsed.frame_id, parsed.height, parsed.width) == (77.25, 'be', 2, 4)
    assert (parsed.encoding, parsed.is_bigendian, parsed.step) == ('mono16', True, 8)
    assert bytes(parsed.data) == data.tobytes()
    comp = store.types['sensor_msgs/msg/CompressedImage'](header=header, format='png', data=data)
    parsed_c = cdr.parse_compressed_image(store.serialize_cdr(comp, 'sensor_msgs/msg/CompressedImage',
                                                              little_endian=False))
    assert (parsed_c.stamp, parsed_c.format, bytes(parsed_c.data)) == (77.25, 'png', data.tobytes())


SMALL_IMAGE = serialize_message(make_image(frame_id='cam', height=2, width=2, step=6))
SMALL_COMPRESSED = serialize_message(make_compressed(fmt='jpeg', data=b'0123456789'))


@pytest.mark.parametrize('cut', range(len(SMALL_IMAGE)))
def test_truncated_image_is_a_conversion_error(cut: int) -> None:
    with pytest.raises(ConversionError, match='truncated|shorter than|without its NUL'):
        cdr.parse_image(SMALL_IMAGE[:cut])
    if cut < 12:
        with pytest.raises(ConversionError):
            cdr.peek_stamp(SMALL_IMAGE[:cut])
    else:
        assert cdr.peek_stamp(SMALL_IMAGE[:cut]) == cdr.peek_stamp(SMALL_IMAGE)


@pytest.mark.parametrize('cut', range(len(SMALL_COMPRESSED)))
def test_truncated_compressed_is_a_conversion_error(cut: int) -> None:
    with pytest.raises(ConversionError):
        cdr.parse_compressed_image(SMALL_COMPRESSED[:cut])


def _patched(raw: bytes, offset: int, value: int) -> bytes:
    return raw[:offset] + struct.pack('<I', value) + raw[offset + 4:]


# Offsets in SMALL_IMAGE (little endian): 12 frame_id length, 20 height, 24 width, 28 encoding length,
# 40 step, 44 data length.
@pytest.mark.parametrize('offset,value,message', [
    (12, 0xFFFF_FFFF, 'frame_id length'),
    (12, 4000, 'truncated'),
    (28, 0x7FFF_FFFF, 'encoding length'),
    (44, 0xFFFF_FFFF, 'truncated: data needs 4294967295 bytes'),
    (44, 4, '8 bytes after its last field'),
    (8, 1_000_000_000, 'nanosec'),
])
def test_corrupt_fields_give_clear_errors(offset: int, value: int, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        cdr.parse_image(_patched(SMALL_IMAGE, offset, value))


def test_string_without_terminator_and_bad_utf8() -> None:
    no_nul = SMALL_IMAGE[:16 + 3] + b'X' + SMALL_IMAGE[20:]  # 'cam\0' -> 'camX'
    with pytest.raises(ConversionError, match='NUL terminator'):
        cdr.parse_image(no_nul)
    bad_utf8 = SMALL_IMAGE[:16] + b'\xff\xfe\xfd' + SMALL_IMAGE[19:]
    with pytest.raises(ConversionError, match='not UTF-8'):
        cdr.parse_image(bad_utf8)


@pytest.mark.parametrize('header', [b'\x00\x07\x00\x00', b'\x00\x03\x00\x00', b'\x12\x34\x00\x00'])
def test_other_encapsulations_are_refused(header: bytes) -> None:
    with pytest.raises(ConversionError, match='encapsulation'):
        cdr.parse_image(header + SMALL_IMAGE[4:])
    with pytest.raises(ConversionError, match='encapsulation'):
        cdr.peek_stamp(header + SMALL_IMAGE[4:])


@pytest.mark.parametrize('extra', [1, 3])
def test_trailing_padding_is_accepted(extra: int) -> None:
    parsed = cdr.parse_image(SMALL_IMAGE + bytes(extra))
    assert bytes(parsed.data) == bytes(make_image(frame_id='cam', height=2, width=2, step=6).data)


def test_wrong_message_type_is_refused() -> None:
    big = serialize_message(make_image(height=480, width=640, step=1920, data=bytes(1920 * 480)))
    with pytest.raises(ConversionError):
        cdr.parse_compressed_image(big)
    with pytest.raises(ConversionError):
        cdr.parse_image(SMALL_COMPRESSED)


@pytest.mark.parametrize('seed', range(40))
def test_random_bytes_never_crash(seed: int) -> None:
    rng = np.random.default_rng(seed)
    garbage = b'\x00\x01\x00\x00' + rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8).tobytes()
    for parse in (cdr.parse_image, cdr.parse_compressed_image):
        try:
            parse(garbage)
        except ConversionError:
            pass


def test_bit_flips_never_crash() -> None:
    # Every single-byte corruption of a real message parses or raises ConversionError, nothing else.
    for i in range(len(SMALL_IMAGE)):
        for value in (0x00, 0x7F, 0xFF):
            corrupt = SMALL_IMAGE[:i] + bytes([value]) + SMALL_IMAGE[i + 1:]
            try:
                cdr.parse_image(corrupt)
            except ConversionError:
                pass


def test_an_oversized_frame_is_refused_on_arrival_from_its_header() -> None:
    """Issue 16: a 16 KB PNG that decodes to 4096x4096 went on to be decoded (on the executor thread)
    before its size was checked; the size now comes from the header when the frame arrives."""
    import io

    from PIL import Image as PILImage

    from omni_ros.ingest.imaging import serialized_frame

    out = io.BytesIO()
    PILImage.new('L', (4096, 4096)).save(out, 'PNG')
    png = out.getvalue()
    assert len(png) < 64 * 1024
    raw = serialize_message(make_compressed(fmt='png', data=png))
    with pytest.raises(ConversionError, match=r'4096x4096 = 16777216 pixels, more than max_pixels = 1000000'):
        serialized_frame(raw, True, max_pixels=1_000_000)
    out = io.BytesIO()
    PILImage.new('RGB', (64, 48)).save(out, 'JPEG')
    raw = serialize_message(make_compressed(fmt='jpeg', data=out.getvalue()))
    with pytest.raises(ConversionError, match=r'64x48 = 3072 pixels, more than max_pixels = 3071'):
        serialized_frame(raw, True, max_pixels=3071)
    assert serialized_frame(raw, True, max_pixels=3072).decode().shape == (48, 64, 3)  # decoded when used
    huge = serialize_message(make_image(height=100_000, width=100_000, step=300_000, data=b'\x00' * 16))
    with pytest.raises(ConversionError, match='more than max_pixels'):
        serialized_frame(huge, False, max_pixels=16_777_216)
    frame = serialized_frame(serialize_message(make_image(sec=7, nanosec=500_000_000)), False, max_pixels=6)
    assert frame.stamp == 7.5 and frame.decode().shape == (2, 3, 3)
