"""Microphone blocks and audio_common_msgs input (the test copy of that package) to core audio."""

from __future__ import annotations

import numpy as np
import pytest
from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo  # test copy, built by tools/bootstrap.sh

from omni_ros.ros import mapping
from omni_ros.devices.streams import PcmBlock
from omni_ros.errors import ConversionError, UnsupportedEncodingError
from omni_ros.data import Speech

pytestmark = pytest.mark.node  # ROS messages in this process, no other process

STAMP = 1_795_000_000.25


def test_pcm_block_round_trip() -> None:
    block = PcmBlock(STAMP, 48000, 2, 'S16LE', bytes(range(256)) * 4)
    msg = mapping.pcm_to_msg(block, frame_id='mic_link')
    assert msg.header.frame_id == 'mic_link' and msg.turn_id == 0
    assert mapping.msg_to_pcm(msg) == block


def stereo_s16(left: np.ndarray, right: np.ndarray) -> bytes:
    return np.stack([left, right], axis=1).astype('<i2').tobytes()


def audio_common(data: bytes, *, channels: int = 1, sample_rate: int = 16000, sample_format: str = 'S16LE',
                 coding_format: str = 'wave') -> tuple[AudioDataStamped, AudioInfo]:
    msg = AudioDataStamped(audio=AudioData(data=data))
    msg.header.stamp = mapping.time_to_msg(STAMP)
    info = AudioInfo(channels=channels, sample_rate=sample_rate, sample_format=sample_format, bitrate=0,
                     coding_format=coding_format)
    return msg, info


def test_raw_audio_common_input_decodes_like_an_audio_chunk() -> None:
    left = np.arange(-800, 800, 2, dtype=np.int16) * 16
    right = -left
    msg, info = audio_common(stereo_s16(left, right), channels=2, sample_rate=44100, coding_format='WAVE')
    speech = mapping.audio_data_to_block(msg, info)
    assert speech.sample_rate == 44100 and speech.stamp == pytest.approx(STAMP)
    assert speech.samples.dtype == np.float32 and speech.samples.shape == (800,)
    assert not speech.samples.any()  # the channels cancel when averaged to mono


@pytest.mark.parametrize('encoding', ['S16LE', 'F32LE'])
def test_speech_to_audio_data_round_trip(encoding: str) -> None:
    samples = (0.5 * np.sin(np.arange(1600) / 7)).astype(np.float32)
    msg, info = mapping.speech_to_audio_data(Speech(samples, 16000, STAMP), encoding, frame_id='mic')
    assert (info.coding_format, info.sample_format, info.channels) == ('wave', encoding, 1)
    assert info.bitrate == 16000 * (16 if encoding == 'S16LE' else 32)
    back = mapping.audio_data_to_block(msg, info)
    assert back.sample_rate == 16000 and back.stamp == pytest.approx(STAMP)
    np.testing.assert_allclose(back.samples, samples, atol=1e-4)


@pytest.mark.parametrize('coding', ['mp3', 'MP3', 'opus'])
def test_compressed_audio_is_rejected_with_the_capture_settings_for_raw_audio(coding: str) -> None:
    msg, info = audio_common(b'\xff\xfb' * 100, coding_format=coding)
    with pytest.raises(ConversionError, match='compressed') as error:
        mapping.audio_data_to_block(msg, info)
    assert 'format: wave' in str(error.value) and 'sample_format: S16LE' in str(error.value)


def test_unknown_coding_and_missing_info_are_errors() -> None:
    msg, info = audio_common(b'\x00' * 100, coding_format='theora')
    with pytest.raises(ConversionError, match="unknown coding_format 'theora'.*format: wave"):
        mapping.audio_data_to_block(msg, info)
    with pytest.raises(ConversionError, match='no audio_common_msgs/AudioInfo received'):
        mapping.audio_data_to_block(msg, None)


@pytest.mark.parametrize('data, info_fields, error_type, match', [
    (b'\x00' * 101, {}, ConversionError, 'not a multiple of 2'),  # odd byte count
    (b'\x00' * 12, {'channels': 2, 'sample_format': 'F32LE'}, ConversionError, 'not a multiple of 8'),
    (b'\x00' * 100, {'sample_rate': 3}, ConversionError, 'between 8000 and 192000'),
    (b'\x00' * 100, {'channels': 0}, ConversionError, 'channels is 0'),
    (b'\x00' * 100, {'sample_format': 'S24LE'}, ConversionError, "sample_format 'S24LE' is not supported"),
    (np.array([np.nan] * 4, '<f4').tobytes(), {'sample_format': 'F32LE'}, ConversionError, 'NaN'),
])
def test_bad_audio_common_input_says_what_is_wrong(data: bytes, info_fields: dict, error_type: type,
                                                    match: str) -> None:
    msg, info = audio_common(data, **info_fields)
    with pytest.raises(error_type, match=match):
        mapping.audio_data_to_block(msg, info)


def test_bad_audio_chunk_encoding_is_an_error_too() -> None:
    msg = mapping.pcm_to_msg(PcmBlock(STAMP, 16000, 1, 'MP3', b'\x00' * 100))
    with pytest.raises(UnsupportedEncodingError, match="'S16LE' or 'F32LE'"):
        mapping.msg_to_speech(msg)


def test_an_oversized_audio_message_is_refused_from_its_length_before_its_data_is_copied() -> None:
    """Issue 16: a 32 MB AudioChunk was copied and converted (RSS up 65-84 MB) before the length limit
    turned it down; the limit is now checked from the byte count alone."""
    import tracemalloc

    from omni_ros_interfaces.msg import AudioChunk

    msg = AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=bytes(32 * 1024 * 1024))
    tracemalloc.start()
    try:
        with pytest.raises(ConversionError, match=r'holds 1048.6 s; the limit is max_audio_message_seconds = 10 s'):
            mapping.msg_to_block(msg, max_seconds=10.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # nothing the size of the message was allocated
    short = AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=bytes(3200))
    assert mapping.msg_to_block(short, max_seconds=10.0).samples.size == 1600  # 0.1 s goes through
    msg, info = audio_common(bytes(48000 * 4 * 11))
    with pytest.raises(ConversionError, match='the limit is max_audio_message_seconds = 10 s'):
        mapping.audio_data_to_block(msg, info, max_seconds=10.0)
