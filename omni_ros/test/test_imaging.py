"""imaging.py: every raw encoding and compressed format against a known RGB image, and clear errors."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from omni_ros.ingest import imaging
from omni_ros.errors import ConversionError, UnsupportedEncodingError

H, W = 6, 10
RNG = np.random.default_rng(1234)
RGB = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
GREY = RNG.integers(0, 256, (H, W), dtype=np.uint8)
# Low bytes of 16-bit samples: noise that a >> 8 scale must ignore.
LOW = RNG.integers(0, 256, (H, W, 4), dtype=np.uint16)


def to16(high: np.ndarray, big_endian: bool) -> np.ndarray:
    value = high.astype(np.uint16) * 256 + LOW[..., :high.shape[-1]] if high.ndim == 3 else \
        high.astype(np.uint16) * 256 + LOW[..., 0]
    return value.astype('>u2' if big_endian else '<u2')


def with_alpha(rgb: np.ndarray) -> np.ndarray:
    alpha = np.full(rgb.shape[:2] + (1,), 77, dtype=rgb.dtype)
    return np.concatenate([rgb, alpha], axis=2)


def bt601_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward BT.601 limited range (ITU-R BT.601 studio swing), written independently of imaging.py."""
    r, g, b = (rgb[..., i].astype(np.float64) / 255 for i in range(3))
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return tuple(np.clip(np.round(c), 0, 255).astype(np.uint8) for c in (y, u, v))


def pack_422(rgb: np.ndarray, order: str) -> np.ndarray:
    """(H, W*2) bytes in 'UYVY' or 'YUYV' order; chroma taken from the even pixel of each pair."""
    y, u, v = bt601_yuv(rgb)
    planes = {'Y0': y[:, 0::2], 'Y1': y[:, 1::2], 'U': u[:, 0::2], 'V': v[:, 0::2]}
    names = ['U', 'Y0', 'V', 'Y1'] if order == 'UYVY' else ['Y0', 'U', 'Y1', 'V']
    return np.stack([planes[n] for n in names], axis=-1).reshape(rgb.shape[0], -1)


# Pixel pairs share one colour so 4:2:2 subsampling loses nothing; keep away from the gamut edge.
PAIRED = np.repeat(RNG.integers(20, 236, (H, W // 2, 3), dtype=np.uint8), 2, axis=1)


def build(encoding: str, big_endian: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(row-major pixel bytes as an (H, row_bytes) array, expected RGB output) for ``encoding``."""
    grey3 = np.repeat(GREY[..., None], 3, axis=2)
    table = {
        'rgb8': (RGB, RGB),
        'bgr8': (RGB[..., ::-1], RGB),
        '8UC3': (RGB[..., ::-1], RGB),
        'rgba8': (with_alpha(RGB), RGB),
        'bgra8': (with_alpha(RGB[..., ::-1]), RGB),
        'mono8': (GREY, grey3),
        '8UC1': (GREY, grey3),
        'mono16': (to16(GREY, big_endian), grey3),
        'rgb16': (to16(RGB, big_endian), RGB),
        'bgr16': (to16(RGB[..., ::-1], big_endian), RGB),
        'rgba16': (to16(with_alpha(RGB), big_endian), RGB),
        'bgra16': (to16(with_alpha(RGB[..., ::-1]), big_endian), RGB),
    }
    if encoding in table:
        pixels, expected = table[encoding]
        return np.ascontiguousarray(pixels).view(np.uint8).reshape(H, -1), expected
    order = 'UYVY' if encoding in ('yuv422', 'uyvy') else 'YUYV'
    return pack_422(PAIRED, order), PAIRED


def with_padding(rows: np.ndarray, pad: int) -> tuple[int, bytes]:
    """(step, data) with ``pad`` garbage bytes after every row."""
    padded = np.full((rows.shape[0], rows.shape[1] + pad), 0xAB, dtype=np.uint8)
    padded[:, :rows.shape[1]] = rows
    return padded.shape[1], padded.tobytes()


def tolerance(encoding: str) -> int:
    # YUV: 8-bit Y/U/V quantization plus per-term rounding; everything else is exact.
    return 3 if encoding in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv') else 0


def test_supported_list_is_the_documented_one() -> None:
    assert set(imaging.SUPPORTED_ENCODINGS) == {
        'rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', '8UC1', '8UC3', 'rgb16', 'bgr16', 'rgba16',
        'bgra16', 'yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv'}
    assert imaging.SUPPORTED_COMPRESSED_FORMATS == ('jpeg', 'png')


@pytest.mark.parametrize('pad', [0, 1, 6])
@pytest.mark.parametrize('encoding', imaging.SUPPORTED_ENCODINGS)
def test_every_encoding_decodes_to_the_known_image(encoding: str, pad: int) -> None:
    rows, expected = build(encoding)
    step, data = with_padding(rows, pad)
    out = imaging.decode_image(encoding, H, W, step, data)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    diff = np.abs(out.astype(int) - expected.astype(int)).max()
    assert diff <= tolerance(encoding), f'{encoding}: max difference {diff}'


@pytest.mark.parametrize('encoding', ['mono16', 'rgb16', 'bgr16', 'rgba16', 'bgra16'])
def test_sixteen_bit_honours_is_bigendian(encoding: str) -> None:
    rows, expected = build(encoding, big_endian=True)
    out = imaging.decode_image(encoding, H, W, rows.shape[1], rows.tobytes(), is_bigendian=True)
    np.testing.assert_array_equal(out, expected)
    # Read with the wrong byte order, the low-byte noise shows up: the flag really is used.
    wrong = imaging.decode_image(encoding, H, W, rows.shape[1], rows.tobytes(), is_bigendian=False)
    assert not np.array_equal(wrong, expected)


def test_mono16_full_scale() -> None:
    values = np.array([[0, 255, 256, 32768, 65280, 65535]], dtype='<u2')
    out = imaging.decode_image('mono16', 1, 6, 12, values.tobytes())
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 1, 128, 255, 255])


@pytest.mark.parametrize('macropixel,expected', [
    ((128, 235, 128, 235), (255, 255, 255)),  # white
    ((128, 16, 128, 16), (0, 0, 0)),  # black
    ((90, 81, 240, 81), (255, 0, 0)),  # BT.601 red
    ((54, 145, 34, 145), (0, 255, 0)),  # green
    ((240, 41, 110, 41), (0, 0, 255)),  # blue
])
@pytest.mark.parametrize('encoding', ['yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv'])
def test_yuv422_reference_colours(encoding: str, macropixel: tuple[int, ...], expected: tuple[int, ...]) -> None:
    u, y0, v, y1 = macropixel
    data = bytes([u, y0, v, y1] if encoding in ('yuv422', 'uyvy') else [y0, u, y1, v])
    out = imaging.decode_image(encoding, 1, 2, 4, data)
    assert np.abs(out.astype(int) - np.array(expected)).max() <= 2


def test_yuv422_keeps_per_pixel_luma() -> None:
    # Y differs inside each pair: U=V=128 (grey) so only the two Y values decide the pixels.
    data = bytes([128, 16, 128, 235] * 2)
    out = imaging.decode_image('uyvy', 1, 4, 8, data)
    np.testing.assert_array_equal(out[0, :, 0], [0, 255, 0, 255])


def test_output_owns_its_memory() -> None:
    data = bytearray(RGB.tobytes())
    out = imaging.decode_image('rgb8', H, W, W * 3, memoryview(data))
    assert out.flags.writeable and out.flags.owndata
    data[:] = bytes(len(data))  # reusing the message buffer must not change a decoded frame
    np.testing.assert_array_equal(out, RGB)


def test_accepts_data_views_and_case() -> None:
    raw = b'\x00' * 7 + RGB.tobytes()  # a view that starts inside a larger buffer, like cdr.parse_image
    out = imaging.decode_image('RGB8', H, W, W * 3, memoryview(raw)[7:])
    np.testing.assert_array_equal(out, RGB)


def test_large_frame_with_row_padding() -> None:
    img = np.random.default_rng(5).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    step, data = with_padding(np.ascontiguousarray(img[..., ::-1]).reshape(1080, -1), 64)
    np.testing.assert_array_equal(imaging.decode_image('bgr8', 1080, 1920, step, data), img)


@pytest.mark.parametrize('encoding,hint', [
    ('bayer_rggb8', 'debayer'),
    ('bayer_grbg16', 'debayer'),
    ('32FC1', 'depth'),
    ('16UC1', 'depth'),
    ('jpeg', 'CompressedImage'),
    ('nv21', 'rgb8, bgr8'),
    ('', 'rgb8, bgr8'),
])
def test_unsupported_encodings_say_what_to_do(encoding: str, hint: str) -> None:
    with pytest.raises(UnsupportedEncodingError, match=hint) as info:
        imaging.decode_image(encoding, 2, 2, 8, bytes(16))
    assert 'publish one of rgb8, bgr8' in str(info.value)


@pytest.mark.parametrize('encoding,height,width,step,size,match', [
    ('rgb8', 0, 4, 12, 0, 'must both be positive'),
    ('rgb8', 4, 0, 12, 48, 'must both be positive'),
    ('rgb8', 4, 4, 11, 48, 'step is 11 bytes but a 4-pixel row needs at least 12'),
    ('mono16', 4, 4, 7, 48, 'at least 8'),
    ('rgb8', 4, 4, 12, 47, 'truncated'),
    ('rgb8', 4, 4, 12, 60, 'height or step is wrong'),
    ('rgb8', 4, 4, 12, 96, 'height or step is wrong'),
    ('yuv422', 2, 3, 6, 12, 'odd width 3'),
    ('rgb8', 5000, 5000, 15000, 0, 'max_pixels'),
])
def test_bad_sizes_are_conversion_errors(encoding: str, height: int, width: int, step: int, size: int,
                                         match: str) -> None:
    with pytest.raises(ConversionError, match=match):
        imaging.decode_image(encoding, height, width, step, bytes(size))


def test_small_slack_after_the_last_row_is_accepted() -> None:
    out = imaging.decode_image('rgb8', H, W, W * 3, RGB.tobytes() + b'\x00\x00')
    np.testing.assert_array_equal(out, RGB)


def test_max_pixels_is_checked_before_reading_data() -> None:
    with pytest.raises(ConversionError, match='max_pixels = 59'):
        imaging.decode_image('rgb8', H, W, W * 3, RGB.tobytes(), max_pixels=59)
    assert imaging.decode_image('rgb8', H, W, W * 3, RGB.tobytes(), max_pixels=60).shape == (H, W, 3)


# ---- compressed --------------------------------------------------------------------------------

_GX, _GY = np.meshgrid(np.linspace(0, 255, 64), np.linspace(40, 200, 48))
SMOOTH = np.stack([_GX, _GY, np.full((48, 64), 128.0)], axis=-1).astype(np.uint8)


def encode(img: np.ndarray | PILImage.Image, fmt: str, **kwargs) -> bytes:
    im = img if isinstance(img, PILImage.Image) else PILImage.fromarray(img)
    out = io.BytesIO()
    im.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize('fmt', ['png', 'PNG', 'bgr8; png compressed', 'rgb8; png compressed bgr8', ''])
def test_png_is_lossless(fmt: str) -> None:
    out = imaging.decode_compressed(fmt, encode(RGB, 'PNG'))
    np.testing.assert_array_equal(out, RGB)
    assert out.flags.c_contiguous and out.flags.writeable


@pytest.mark.parametrize('fmt', ['jpeg', 'jpg', 'rgb8; jpeg compressed bgr8', 'bgr8; jpeg compressed bgr8',
                                 'image/jpeg', ''])
def test_jpeg_decodes_close_to_the_original(fmt: str) -> None:
    out = imaging.decode_compressed(fmt, memoryview(encode(SMOOTH, 'JPEG', quality=95)))
    assert out.shape == SMOOTH.shape
    assert np.abs(out.astype(int) - SMOOTH.astype(int)).mean() < 2.0


@pytest.mark.parametrize('mode,fmt', [('L', 'JPEG'), ('L', 'PNG'), ('RGBA', 'PNG'), ('P', 'PNG')])
def test_other_pixel_modes_become_rgb(mode: str, fmt: str) -> None:
    im = PILImage.fromarray(SMOOTH).convert(mode)
    out = imaging.decode_compressed(fmt.lower(), encode(im, fmt))
    expected = np.asarray(im.convert('RGB')).astype(int)
    assert out.shape == SMOOTH.shape
    assert np.abs(out.astype(int) - expected).mean() < (2.0 if fmt == 'JPEG' else 1e-9)


def test_sixteen_bit_png_keeps_the_high_byte() -> None:
    values = (GREY.astype(np.uint16) * 256 + LOW[..., 0]).astype(np.uint16)
    im = PILImage.fromarray(values)  # mode I;16
    out = imaging.decode_compressed('mono16; png compressed mono16', encode(im, 'PNG'))
    np.testing.assert_array_equal(out, np.repeat(GREY[..., None], 3, axis=2))


@pytest.mark.parametrize('target,expected_shape', [
    ((160, 120), (120, 160, 3)),  # exactly 1/4
    ((200, 150), (240, 320, 3)),  # 1/3 is not a DCT scale: 1/2, never smaller than the target
    ((60, 40), (60, 80, 3)),  # 1/8 is the smallest scale
    ((640, 480), (480, 640, 3)),
    ((2000, 2000), (480, 640, 3)),
])
def test_jpeg_draft_downscales_cheaply(target: tuple[int, int], expected_shape: tuple[int, ...]) -> None:
    big = np.asarray(PILImage.fromarray(SMOOTH).resize((640, 480)))
    out = imaging.decode_compressed('jpeg', encode(big, 'JPEG', quality=90), target_size=target)
    assert out.shape == expected_shape
    reference = np.asarray(PILImage.fromarray(big).resize(expected_shape[1::-1]), dtype=int)
    assert np.abs(out.astype(int) - reference).mean() < 4.0


def test_png_ignores_target_size() -> None:
    assert imaging.decode_compressed('png', encode(RGB, 'PNG'), target_size=(2, 2)).shape == (H, W, 3)


@pytest.mark.parametrize('fmt,match', [
    ('16UC1; compressedDepth png', 'compressedDepth'),
    ('32FC1; compressedDepth', 'compressedDepth'),
    ('theora', 'not supported'),
    ('h264', 'not supported'),
    ('bgr8; tiff compressed', 'not supported'),
])
def test_unsupported_compressed_formats(fmt: str, match: str) -> None:
    with pytest.raises(UnsupportedEncodingError, match=match):
        imaging.decode_compressed(fmt, encode(RGB, 'PNG'))


JPEG_BYTES = encode(SMOOTH, 'JPEG')
PNG_BYTES = encode(RGB, 'PNG')


@pytest.mark.parametrize('fmt,data,match', [
    ('jpeg', JPEG_BYTES[:len(JPEG_BYTES) // 2], 'could not be decoded'),
    ('png', PNG_BYTES[:len(PNG_BYTES) - 40], 'could not be decoded'),
    ('jpeg', b'\xff\xd8\xff' + bytes(100), 'could not be decoded'),
    ('jpeg', PNG_BYTES, 'looks like png'),
    ('png', b'not an image at all', 'could not be decoded'),
    ('jpeg', b'', 'no data'),
])
def test_corrupt_compressed_data(fmt: str, data: bytes, match: str) -> None:
    with pytest.raises(ConversionError, match=match):
        imaging.decode_compressed(fmt, data)


def test_empty_format_with_unknown_data() -> None:
    with pytest.raises(UnsupportedEncodingError, match='neither JPEG nor PNG'):
        imaging.decode_compressed('', b'GIF89a....')


def forged_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose pixel data is a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(bytes(64)))
            + chunk(b'IEND', b''))


@pytest.mark.parametrize('width,height,max_pixels', [(100_000, 100_000, imaging.DEFAULT_MAX_PIXELS),
                                                     (5000, 4000, imaging.DEFAULT_MAX_PIXELS),
                                                     (64, 48, 1000)])
def test_decompression_bombs_are_refused_from_the_header(width: int, height: int, max_pixels: int) -> None:
    with pytest.raises(ConversionError, match='max_pixels'):
        imaging.decode_compressed('png', forged_png(width, height), max_pixels=max_pixels)


def test_jpeg_max_pixels() -> None:
    with pytest.raises(ConversionError, match=r'64x48 = 3072 pixels, more than max_pixels = 3071'):
        imaging.decode_compressed('jpeg', JPEG_BYTES, max_pixels=3071)


def test_encode_rgb8_round_trip() -> None:
    height, width, step, data = imaging.encode_rgb8(RGB)
    assert (height, width, step, len(data)) == (H, W, W * 3, H * W * 3)
    np.testing.assert_array_equal(imaging.decode_image('rgb8', height, width, step, data), RGB)
    with pytest.raises(ConversionError, match='HxWx3 uint8'):
        imaging.encode_rgb8(GREY)


@pytest.mark.parametrize('fmt,original', [('jpeg', JPEG_BYTES), ('png', PNG_BYTES)])
def test_mutated_compressed_data_never_crashes(fmt: str, original: bytes) -> None:
    # Byte flips and cuts either still decode (JPEG tolerates some) or give ConversionError.
    rng = np.random.default_rng(7)
    for _ in range(150):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            data = data[:int(rng.integers(1, len(data)))]
        try:
            out = imaging.decode_compressed(fmt, bytes(data), target_size=(16, 12))
        except ConversionError:
            continue
        assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8


@pytest.mark.parametrize('mode, fmt, options', [('RGB', 'PNG', {}), ('L', 'PNG', {}), ('RGB', 'JPEG', {}),
                                                ('RGB', 'JPEG', {'progressive': True}), ('L', 'JPEG', {})])
def test_the_size_is_read_from_the_compressed_header(mode: str, fmt: str, options: dict) -> None:
    data = encode(PILImage.new(mode, (321, 123)), fmt, **options)
    assert imaging.compressed_size(data) == (321, 123)
    assert imaging.compressed_size(memoryview(data)) == (321, 123)
    assert imaging.compressed_size(forged_png(4096, 4096)) == (4096, 4096)
    for unknown in (data[:10], b'GIF89a....', b'', b'\xff\xd8\xff\xda\x00\x02'):  # cut, other, empty, scan first
        assert imaging.compressed_size(unknown) is None
