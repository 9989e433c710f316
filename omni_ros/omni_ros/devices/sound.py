"""Sound devices for omni_mic and omni_speaker, and their parameter tables.

The ``device`` parameter names one of:

- ``''``: the system default device;
- a PortAudio device index (``'3'``) or name, or a unique part of it (``'USB'``, ``'pulse'``, ``'hw:1,0'``);
- ``'wav:PATH'``: a 16-bit PCM WAV file, paced in real time like a sound card: capture reads it (and
  stops at its end), playback writes it. For robots without a sound card, recordings, and tests.

``check_*`` validate the settings against the device (configure fails with the list of devices when it
does not exist); ``open_*`` return an unstarted ``audio_io.AudioStream`` that calls the given callback.
PortAudio comes from Debian's libportaudio2 through the sounddevice package, imported only here.
"""

from __future__ import annotations

import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from omni_ros.ingest import audio
from omni_ros.devices.streams import DEVICE_DTYPES, AudioStream, InputCallback, OutputCallback
from omni_ros.errors import ConfigError
from omni_ros.settings import Change, check_fields, setting

WAV_PREFIX = 'wav:'

_DEVICE_HELP = ("'' for the system default, a PortAudio device index or name (or a unique part of it), or "
                "'wav:PATH' for a WAV file paced in real time")

@dataclass(frozen=True)
class StreamSettings:
    """What to open: device, rate, channels, frames per callback, and for capture the sample format."""

    device: str
    sample_rate: int
    channels: int
    block_size: int
    encoding: str = 'F32LE'

    @property
    def wav_path(self) -> Path | None:
        return Path(self.device[len(WAV_PREFIX):]).expanduser() if self.device.startswith(WAV_PREFIX) else None

    @property
    def block_seconds(self) -> float:
        return self.block_size / self.sample_rate


@dataclass(frozen=True)
class DeviceConfig:
    """Settings omni_mic and omni_speaker share (their ROS parameters)."""

    autostart: bool = setting(True, 'configure and activate at start-up (set false when a lifecycle manager '
                              'drives the node)', change=Change.START)
    device: str = setting('', 'sound device: ' + _DEVICE_HELP)
    channels: int = setting(1, 'device channels (interleaved)', minimum=1, maximum=audio.MAX_CHANNELS)
    error_log_period: float = setting(5.0, 'the same error is logged at most once per this many seconds',
                                      minimum=0.0, maximum=3600.0, change=Change.LIVE)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.device.startswith(WAV_PREFIX) and not self.device[len(WAV_PREFIX):].strip():
            raise ConfigError(f"'device' {self.device!r} names no file: write 'wav:/path/to/file.wav'")


@dataclass(frozen=True)
class CaptureConfig(DeviceConfig):
    """omni_mic's settings."""

    sample_rate: int = setting(16000, 'capture rate in Hz (omni_node resamples any rate; 16000 is what the '
                               'models use)', minimum=audio.MIN_SAMPLE_RATE, maximum=audio.MAX_SAMPLE_RATE)
    block_size: int = setting(800, 'frames per published AudioChunk (800 = 50 ms at 16 kHz)',
                              minimum=16, maximum=65536)
    encoding: str = setting('S16LE', 'sample format of the published AudioChunk', choices=tuple(DEVICE_DTYPES))
    frame_id: str = setting('', 'header frame_id of the published audio (the microphone frame)')

    @property
    def stream(self) -> StreamSettings:
        return StreamSettings(self.device, self.sample_rate, self.channels, self.block_size, self.encoding)


@dataclass(frozen=True)
class PlaybackConfig(DeviceConfig):
    """omni_speaker's settings."""

    sample_rate: int = setting(48000, 'device rate in Hz; speech of any rate is resampled to it',
                               minimum=audio.MIN_SAMPLE_RATE, maximum=audio.MAX_SAMPLE_RATE)
    block_size: int = setting(960, 'frames per device callback (960 = 20 ms at 48 kHz); larger is more robust, '
                              'smaller reacts faster to an interruption', minimum=16, maximum=65536)
    jitter_delay: float = setting(0.0, 'seconds added to every speech stamp before it plays. omni_node publishes '
                                  'speech ahead of its stamps (its speech.lead), which already absorbs transport '
                                  'jitter, and expects playback at the stamps; raise this when blocks are '
                                  'reported late', minimum=0.0, maximum=2.0)
    max_queue_seconds: float = setting(30.0, 'speech stamped further ahead of what plays now is rejected (a clock '
                                       'mismatch between the publisher and this node)', minimum=1.0, maximum=600.0)

    @property
    def stream(self) -> StreamSettings:
        return StreamSettings(self.device, self.sample_rate, self.channels, self.block_size)


# -- PortAudio -------------------------------------------------------------------------------------

def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as error:  # the package is there, the PortAudio library is not
        raise ConfigError(f'PortAudio cannot be loaded ({error}): install it (Debian/Ubuntu: apt-get install '
                          "libportaudio2), or use a 'wav:PATH' device") from None
    return sounddevice


def _device_list(sd: Any, kind: str) -> str:
    key = f'max_{kind}_channels'
    rows = [f"{d['index']}: '{d['name']}' ({d[key]} {kind} channels, default {d['default_samplerate']:g} Hz)"
            for d in sd.query_devices() if d[key] > 0]
    if not rows:
        return f'PortAudio finds no {kind} device at all (no sound card, or ALSA/PulseAudio not configured)'
    return f'available {kind} devices: ' + '; '.join(rows)


def _portaudio_device(sd: Any, settings: StreamSettings, kind: str) -> dict[str, Any]:
    """The PortAudio device ``settings.device`` names, checked for the rate, channels and format."""
    spec: int | str | None = settings.device or None
    if isinstance(spec, str) and spec.isdigit():
        spec = int(spec)
    try:
        info = sd.query_devices(spec, kind)
    except (ValueError, sd.PortAudioError) as error:
        what = f'{settings.device!r}' if settings.device else '(the system default)'
        raise ConfigError(f'audio {kind} device {what} not found ({error}); {_device_list(sd, kind)}. Set '
                          f"'device' to one of them: {_DEVICE_HELP}") from None
    dtype = DEVICE_DTYPES[settings.encoding] if kind == 'input' else 'float32'
    check = sd.check_input_settings if kind == 'input' else sd.check_output_settings
    try:
        check(device=info['index'], channels=settings.channels, dtype=dtype, samplerate=settings.sample_rate)
    except (ValueError, sd.PortAudioError) as error:
        raise ConfigError(
            f"audio {kind} device '{info['name']}' cannot run at {settings.sample_rate} Hz with "
            f'{settings.channels} channel(s) ({error}); it has {info[f"max_{kind}_channels"]} {kind} channels '
            f"and a default rate of {info['default_samplerate']:g} Hz: set sample_rate and channels to match") from None
    return dict(info)


def _open_portaudio(settings: StreamSettings, kind: str, callback: Callable[..., None]) -> AudioStream:
    sd = _sounddevice()
    info = _portaudio_device(sd, settings, kind)
    rate = settings.sample_rate

    def on_input(indata: np.ndarray, frames: int, times: Any, status: Any) -> None:
        # Host APIs that give no times report 0: the block was then captured one block ago.
        age = times.currentTime - times.inputBufferAdcTime if times.inputBufferAdcTime else frames / rate
        callback(indata, max(0.0, age), bool(status.input_overflow))

    def on_output(outdata: np.ndarray, frames: int, times: Any, status: Any) -> None:
        outdata.fill(0)
        delay = times.outputBufferDacTime - times.currentTime if times.outputBufferDacTime else 0.0
        callback(outdata, max(0.0, delay), bool(status.output_underflow))

    stream_type, dtype, adapter = ((sd.InputStream, DEVICE_DTYPES[settings.encoding], on_input) if kind == 'input'
                                   else (sd.OutputStream, 'float32', on_output))
    try:
        stream: AudioStream = stream_type(device=info['index'], samplerate=rate, channels=settings.channels,
                                          dtype=dtype, blocksize=settings.block_size, callback=adapter)
    except sd.PortAudioError as error:
        raise ConfigError(f"audio {kind} device '{info['name']}' cannot be opened: {error}") from None
    return stream


# -- WAV files paced in real time ------------------------------------------------------------------

class _PacedFileStream:
    """Calls ``_step`` once per block period on its own thread, paced by the monotonic clock.

    ``first_at`` is when the first step runs, in block periods after start: 1 for capture (a block is
    delivered once all of it has been "recorded"), 0 for playback.
    """

    first_at = 0

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._block_index = 0

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name='wav_stream', daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._close_file()

    def _due(self, index: int) -> float:
        return self._started_at + (index + self.first_at) * self.settings.block_seconds

    def _run(self) -> None:
        while not self._stop.wait(max(0.0, self._due(self._block_index) - time.monotonic())):
            if not self._step():
                return
            self._block_index += 1

    def _step(self) -> bool:
        raise NotImplementedError

    def _close_file(self) -> None:
        raise NotImplementedError


class _WavCapture(_PacedFileStream):
    first_at = 1

    def __init__(self, settings: StreamSettings, path: Path, callback: InputCallback) -> None:
        super().__init__(settings)
        try:
            self._wav = wave.open(str(path), 'rb')
        except (OSError, EOFError, wave.Error) as error:
            raise ConfigError(f"capture device 'wav:{path}' cannot be read as a WAV file: {error}") from None
        rate, channels, width = self._wav.getframerate(), self._wav.getnchannels(), self._wav.getsampwidth()
        if (rate, channels, width) != (settings.sample_rate, settings.channels, 2):
            self._wav.close()
            raise ConfigError(f"capture device 'wav:{path}' holds {rate} Hz, {channels} channel(s), "
                              f'{8 * width}-bit audio: set sample_rate: {rate} and channels: {channels} '
                              '(16-bit PCM files only)')
        self._callback = callback

    def _step(self) -> bool:
        data = self._wav.readframes(self.settings.block_size)
        if not data:
            return False
        block = np.frombuffer(data, dtype='<i2').reshape(-1, self.settings.channels)
        if self.settings.encoding == 'F32LE':
            block = audio.decode_audio('S16LE', self.settings.sample_rate, 1, data).reshape(block.shape)
        self._callback(block, time.monotonic() - self._due(self._block_index - 1), False)
        return True

    def _close_file(self) -> None:
        self._wav.close()


class _WavPlayback(_PacedFileStream):
    def __init__(self, settings: StreamSettings, path: Path, callback: OutputCallback) -> None:
        super().__init__(settings)
        try:
            self._file = open(path, 'wb')
        except OSError as error:
            raise ConfigError(f"playback device 'wav:{path}' cannot be written: {error}") from None
        self._wav = wave.open(self._file, 'wb')
        self._wav.setnchannels(settings.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(settings.sample_rate)
        self._callback = callback

    def _step(self) -> bool:
        out = np.zeros((self.settings.block_size, self.settings.channels), dtype=np.float32)
        self._callback(out, 0.0, False)
        self._wav.writeframes(audio.encode_audio(out, 'S16LE'))  # also keeps the header's length current
        self._file.flush()
        return True

    def _close_file(self) -> None:
        self._wav.close()
        self._file.close()


# -- entry points ----------------------------------------------------------------------------------

def check_capture(settings: StreamSettings) -> str:
    """Raise ConfigError unless the capture device exists and supports the settings; describe it."""
    path = settings.wav_path
    if path is not None:
        _WavCapture(settings, path, lambda *_: None).close()
        return f'WAV file {path}'
    return f"'{_portaudio_device(_sounddevice(), settings, 'input')['name']}'"


def check_playback(settings: StreamSettings) -> str:
    path = settings.wav_path
    if path is not None:
        if not path.parent.is_dir():
            raise ConfigError(f"playback device 'wav:{path}': folder {path.parent} does not exist")
        return f'WAV file {path}'
    return f"'{_portaudio_device(_sounddevice(), settings, 'output')['name']}'"


def open_capture(settings: StreamSettings, callback: InputCallback) -> AudioStream:
    path = settings.wav_path
    return _WavCapture(settings, path, callback) if path is not None else _open_portaudio(settings, 'input', callback)


def open_playback(settings: StreamSettings, callback: OutputCallback) -> AudioStream:
    path = settings.wav_path
    return (_WavPlayback(settings, path, callback) if path is not None
            else _open_portaudio(settings, 'output', callback))
