"""Minimal WAV reading and writing (stdlib only): reference voices, llama.cpp-omni file exchange.

The stdlib ``wave`` module reads integer PCM only, while servers often write IEEE float WAV, so the RIFF
chunks are parsed here directly.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from omni_ros.data import FloatArray

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def read_wav(path: str | Path) -> tuple[FloatArray, int]:
    """Samples as float32 mono in [-1, 1] (channels averaged) and the sample rate."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b'RIFF' or data[8:12] != b'WAVE':
        raise ValueError(f'{path} is not a RIFF/WAVE file')
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack('<I', data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b'fmt ':
            fmt = struct.unpack('<HHIIHH', body[:16])
            if fmt[0] == _EXTENSIBLE and len(body) >= 26:
                fmt = (struct.unpack('<H', body[24:26])[0],) + fmt[1:]
        elif cid == b'data':
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise ValueError(f'{path} has no fmt or data chunk')
    tag, channels, rate, _, _, bits = fmt
    if tag == _FLOAT and bits == 32:
        x = np.frombuffer(payload[:len(payload) // 4 * 4], '<f4').astype(np.float32)
    elif tag == _PCM and bits == 16:
        x = np.frombuffer(payload[:len(payload) // 2 * 2], '<i2').astype(np.float32) / 32768.0
    elif tag == _PCM and bits == 32:
        x = np.frombuffer(payload[:len(payload) // 4 * 4], '<i4').astype(np.float32) / 2147483648.0
    elif tag == _PCM and bits == 24:
        raw = np.frombuffer(payload[:len(payload) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int32)
        v = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    else:
        raise ValueError(f'{path}: unsupported WAV format {tag} with {bits} bits; use 16-bit PCM or float32')
    if channels > 1:
        x = x[:len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    return np.ascontiguousarray(x, dtype=np.float32), int(rate)


def write_wav(path: str | Path, samples: np.ndarray, rate: int, float32: bool = False) -> None:
    """Mono WAV: 16-bit PCM (what most servers read) or IEEE float32."""
    x = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if float32:
        tag, bits, payload = _FLOAT, 32, x.astype('<f4').tobytes()
    else:
        tag, bits, payload = _PCM, 16, np.round(x * 32767.0).astype('<i2').tobytes()
    block = bits // 8
    header = b'RIFF' + struct.pack('<I', 36 + len(payload)) + b'WAVE'
    header += b'fmt ' + struct.pack('<IHHIIHH', 16, tag, 1, rate, rate * block, block, bits)
    Path(path).write_bytes(header + b'data' + struct.pack('<I', len(payload)) + payload)
