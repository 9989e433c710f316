"""Every conversion between ROS messages and core types, in pairs (``x_to_msg`` / ``msg_to_x``).

Enum conversions raise MappingError on values they do not know, so a newer message definition or a
new core enum member fails loudly instead of being published as a wrong constant.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, TypeVar

from builtin_interfaces.msg import Duration as DurationMsg
from builtin_interfaces.msg import Time as TimeMsg
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from unique_identifier_msgs.msg import UUID

from omni_ros.data import (AudioBlock, Event, EventKind, Modality, Speaker, Speech,
                           SpeechInterruption, Transcript, Watch, WatchSource)
from omni_ros.devices.streams import PcmBlock
from omni_ros.errors import ConversionError, MappingError
from omni_ros.ingest import audio
from omni_ros.session.session import Diagnostics, Level, State
from omni_ros.watches import policy
from omni_ros_interfaces.action import SetWatch
from omni_ros_interfaces.msg import AudioChunk, OmniState, ProactiveEvent, SpeechInterrupt, WatchInfo
from omni_ros_interfaces.msg import Transcript as TranscriptMsg

if TYPE_CHECKING:  # optional package: imported at run time only where its messages are built
    from audio_common_msgs.msg import AudioDataStamped, AudioInfo

K = TypeVar('K')
V = TypeVar('V')


def _lookup(table: Mapping[K, V], key: K, what: str) -> V:
    try:
        return table[key]
    except KeyError:
        raise MappingError(f'unknown {what} {key!r}; known: {", ".join(map(repr, table))}') from None


def _inverse(table: Mapping[K, V]) -> dict[V, K]:
    return {v: k for k, v in table.items()}


_KIND = {EventKind.ALERT: ProactiveEvent.KIND_ALERT, EventKind.COMMENT: ProactiveEvent.KIND_COMMENT,
         EventKind.ANSWER: ProactiveEvent.KIND_ANSWER}
_MODALITY = {Modality.UNKNOWN: ProactiveEvent.MODALITY_UNKNOWN, Modality.VISION: ProactiveEvent.MODALITY_VISION,
             Modality.AUDIO: ProactiveEvent.MODALITY_AUDIO,
             Modality.AUDIOVISUAL: ProactiveEvent.MODALITY_AUDIOVISUAL}
_SPEAKER = {Speaker.USER: TranscriptMsg.SPEAKER_USER, Speaker.ASSISTANT: TranscriptMsg.SPEAKER_ASSISTANT}
_SOURCE = {WatchSource.ACTION: WatchInfo.SOURCE_ACTION, WatchSource.PARAMETER: WatchInfo.SOURCE_PARAMETER,
           WatchSource.SPOKEN: WatchInfo.SOURCE_SPOKEN}


def kind_to_msg(kind: EventKind) -> int:
    return _lookup(_KIND, kind, 'event kind')


def msg_to_kind(value: int) -> EventKind:
    return _lookup(_inverse(_KIND), value, 'ProactiveEvent.kind')


def modality_to_msg(modality: Modality) -> int:
    return _lookup(_MODALITY, modality, 'modality')


def msg_to_modality(value: int) -> Modality:
    return _lookup(_inverse(_MODALITY), value, 'ProactiveEvent.modality')


def speaker_to_msg(speaker: Speaker) -> int:
    return _lookup(_SPEAKER, speaker, 'speaker')


def msg_to_speaker(value: int) -> Speaker:
    return _lookup(_inverse(_SPEAKER), value, 'Transcript.speaker')


def source_to_msg(source: WatchSource) -> int:
    return _lookup(_SOURCE, source, 'watch source')


def msg_to_source(value: int) -> WatchSource:
    return _lookup(_inverse(_SOURCE), value, 'WatchInfo.source')


def _split(seconds: float) -> tuple[int, int]:
    """Whole seconds and nanoseconds; split first, since seconds * 1e9 loses nanoseconds at epoch scale."""
    whole = math.floor(seconds)
    nanosec = round((seconds - whole) * 1e9)
    if nanosec == 1_000_000_000:
        whole, nanosec = whole + 1, 0
    return whole, nanosec


def time_to_msg(seconds: float) -> TimeMsg:
    if not math.isfinite(seconds) or seconds < 0:
        raise MappingError(f'time {seconds!r} s cannot be a ROS time stamp (finite, >= 0)')
    sec, nanosec = _split(seconds)
    return TimeMsg(sec=sec, nanosec=nanosec)


def msg_to_time(msg: TimeMsg) -> float:
    return msg.sec + msg.nanosec / 1e9


def duration_to_msg(seconds: float) -> DurationMsg:
    if not math.isfinite(seconds):
        raise MappingError(f'duration {seconds!r} s is not finite')
    sec, nanosec = _split(seconds)
    return DurationMsg(sec=sec, nanosec=nanosec)


def msg_to_duration(msg: DurationMsg) -> float:
    return msg.sec + msg.nanosec / 1e9


def goal_id_hex(goal_id: UUID) -> str:
    """A goal id as omni_node names the goal's watch or question: its UUID as 32 lowercase hex digits."""
    return bytes(goal_id.uuid).hex()


def event_to_msg(event: Event, event_id: str, now: float, frame_id: str = '') -> ProactiveEvent:
    msg = ProactiveEvent(event_id=event_id, kind=kind_to_msg(event.kind), text=event.text,
                         watch_id=event.watch_id, question_id=event.question_id,
                         input_stamp=time_to_msg(event.stamp), confidence=float(event.confidence),
                         modality=modality_to_msg(event.modality))
    msg.header.stamp = time_to_msg(now)
    msg.header.frame_id = frame_id
    return msg


def msg_to_event(msg: ProactiveEvent) -> Event:
    return Event(kind=msg_to_kind(msg.kind), text=msg.text, stamp=msg_to_time(msg.input_stamp),
                 watch_id=msg.watch_id, question_id=msg.question_id, confidence=msg.confidence,
                 modality=msg_to_modality(msg.modality))


def transcript_to_msg(transcript: Transcript, frame_id: str = '') -> TranscriptMsg:
    msg = TranscriptMsg(speaker=speaker_to_msg(transcript.speaker), text=transcript.text,
                        turn_id=transcript.turn_id, final=transcript.final, interrupted=transcript.interrupted)
    msg.header.stamp = time_to_msg(transcript.stamp)
    msg.header.frame_id = frame_id
    return msg


def msg_to_transcript(msg: TranscriptMsg) -> Transcript:
    return Transcript(speaker=msg_to_speaker(msg.speaker), text=msg.text, turn_id=msg.turn_id,
                      stamp=msg_to_time(msg.header.stamp), final=msg.final, interrupted=msg.interrupted)


def speech_to_msg(speech: Speech, encoding: str = 'S16LE', frame_id: str = '') -> AudioChunk:
    msg = AudioChunk(sample_rate=speech.sample_rate, channels=1, encoding=encoding,
                     data=audio.encode_audio(speech.samples, encoding), turn_id=speech.turn_id)
    msg.header.stamp = time_to_msg(speech.stamp)
    msg.header.frame_id = frame_id
    return msg


def msg_to_speech(msg: AudioChunk) -> Speech:
    """Decode speech output (any AudioChunk) to mono float32 at its own rate; raises ConversionError on bad data."""
    block = msg_to_block(msg)
    return Speech(samples=block.samples, sample_rate=block.sample_rate, stamp=block.stamp, turn_id=msg.turn_id)


def msg_to_block(msg: AudioChunk) -> AudioBlock:
    """Decode microphone input (any AudioChunk) to mono float32 at its own rate; raises ConversionError."""
    return audio.decode_block(msg_to_time(msg.header.stamp), msg.encoding, msg.sample_rate, msg.channels,
                              bytes(msg.data))


def interruption_to_msg(interruption: SpeechInterruption) -> SpeechInterrupt:
    msg = SpeechInterrupt(turn_id=interruption.turn_id, reason=interruption.reason)
    msg.header.stamp = time_to_msg(interruption.stamp)
    return msg


def msg_to_interruption(msg: SpeechInterrupt) -> SpeechInterruption:
    return SpeechInterruption(turn_id=msg.turn_id, stamp=msg_to_time(msg.header.stamp), reason=msg.reason)


def goal_to_watch(goal: SetWatch.Goal, watch_id: str, instruction: str, created: float,
                  source: WatchSource = WatchSource.ACTION, interpretation: str = '') -> Watch:
    """``instruction`` is the goal's instruction after normalization (see watches.normalize_instruction)."""
    timeout = msg_to_duration(goal.timeout)
    cooldown = msg_to_duration(goal.cooldown)
    policy.check_durations(timeout, cooldown)
    return Watch(watch_id=watch_id, instruction=instruction, continuous=goal.continuous, cooldown=cooldown,
                 timeout=timeout, source=source, created=created, interpretation=interpretation)


def watch_to_goal(watch: Watch) -> SetWatch.Goal:
    return SetWatch.Goal(instruction=watch.instruction, timeout=duration_to_msg(watch.timeout),
                         continuous=watch.continuous, cooldown=duration_to_msg(watch.cooldown))


def watch_to_msg(watch: Watch, trigger_count: int) -> WatchInfo:
    return WatchInfo(watch_id=watch.watch_id, instruction=watch.instruction, source=source_to_msg(watch.source),
                     continuous=watch.continuous, timeout=duration_to_msg(watch.timeout),
                     cooldown=duration_to_msg(watch.cooldown), created=time_to_msg(watch.created),
                     trigger_count=trigger_count, interpretation=watch.interpretation)


def msg_to_watch(msg: WatchInfo) -> tuple[Watch, int]:
    return (Watch(watch_id=msg.watch_id, instruction=msg.instruction, continuous=msg.continuous,
                  cooldown=msg_to_duration(msg.cooldown), timeout=msg_to_duration(msg.timeout),
                  source=msg_to_source(msg.source), created=msg_to_time(msg.created),
                  interpretation=msg.interpretation), msg.trigger_count)


# -- Audio I/O: microphone blocks, and audio_common_msgs input --------------------------------------

def pcm_to_msg(block: PcmBlock, frame_id: str = '') -> AudioChunk:
    """A captured microphone block as published (turn_id 0: not speech output)."""
    msg = AudioChunk(sample_rate=block.sample_rate, channels=block.channels, encoding=block.encoding,
                     data=block.data)
    msg.header.stamp = time_to_msg(block.stamp)
    msg.header.frame_id = frame_id
    return msg


def msg_to_pcm(msg: AudioChunk) -> PcmBlock:
    """The block's bytes as they are; ``msg_to_speech`` decodes and validates them."""
    return PcmBlock(stamp=msg_to_time(msg.header.stamp), sample_rate=msg.sample_rate, channels=msg.channels,
                    encoding=msg.encoding, data=bytes(msg.data))


# AudioInfo.coding_format values (compared lower-case). audio_capture sends 'wave' for raw PCM.
_RAW_CODINGS = ('wave', 'wav', 'raw', 'pcm')
_COMPRESSED_CODINGS = ('mp3', 'opus', 'vorbis', 'ogg', 'flac', 'aac', 'speex', 'amr')
_RAW_CAPTURE_HINT = ("configure audio_capture for raw audio: parameters format: wave and sample_format: S16LE "
                     "(e.g. -p format:=wave -p sample_format:=S16LE), or publish omni_ros_interfaces/AudioChunk")


def audio_data_to_block(msg: AudioDataStamped, info: AudioInfo | None) -> AudioBlock:
    """audio_common_msgs input (e.g. from audio_capture) to mono float32, like ``msg_to_block``.

    ``info`` is the latest AudioInfo from the capture node's info topic. Raises ConversionError when it
    is missing, names a compressed or unknown coding, or does not match the data (rate, channels,
    sample format, byte count).
    """
    if info is None:
        raise ConversionError('no audio_common_msgs/AudioInfo received yet, so the format of the audio is '
                              "unknown: audio_capture publishes it on 'audio_info' (remap it to this node's "
                              'audio info topic)')
    coding = info.coding_format.strip().lower()
    if coding not in _RAW_CODINGS:
        kind = 'compressed' if coding in _COMPRESSED_CODINGS else 'unknown'
        raise ConversionError(f'audio_common audio has {kind} coding_format {info.coding_format!r}; omni_ros '
                              f'reads raw PCM only: {_RAW_CAPTURE_HINT}')
    if info.sample_format not in audio.SUPPORTED_AUDIO_ENCODINGS:
        raise ConversionError(f'audio_common sample_format {info.sample_format!r} is not supported (use '
                              f"{' or '.join(audio.SUPPORTED_AUDIO_ENCODINGS)}): {_RAW_CAPTURE_HINT}")
    return audio.decode_block(msg_to_time(msg.header.stamp), info.sample_format, info.sample_rate, info.channels,
                              bytes(msg.audio.data))


def audio_common_missing() -> str:
    """Why audio_input 'audio_common' cannot work here ('' when audio_common_msgs is installed)."""
    try:
        import audio_common_msgs.msg  # noqa: F401
    except ImportError:
        return ("audio_input is 'audio_common' but audio_common_msgs is not installed: install it "
                '(ros-<distro>-audio-common-msgs), or publish omni_ros_interfaces/AudioChunk (e.g. with omni_mic) '
                "and set audio_input to 'omni'")
    return ''


def speech_to_audio_data(speech: Speech, encoding: str = 'S16LE',
                         frame_id: str = '') -> tuple[AudioDataStamped, AudioInfo]:
    """Mono speech as audio_common raw ('wave') audio and the AudioInfo that describes it."""
    from audio_common_msgs.msg import AudioData, AudioDataStamped, AudioInfo

    data = audio.encode_audio(speech.samples, encoding)
    msg = AudioDataStamped(audio=AudioData(data=data))
    msg.header.stamp = time_to_msg(speech.stamp)
    msg.header.frame_id = frame_id
    bits = 8 * len(data) // max(1, speech.samples.size)
    info = AudioInfo(channels=1, sample_rate=speech.sample_rate, sample_format=encoding,
                     bitrate=bits * speech.sample_rate, coding_format='wave')
    return msg, info


# -- The node's state and diagnostics -------------------------------------------------------------------

_LEVEL = {Level.OK: DiagnosticStatus.OK, Level.WARN: DiagnosticStatus.WARN, Level.ERROR: DiagnosticStatus.ERROR}


def state_to_msg(state: State, now: float) -> OmniState:
    msg = OmniState(mode=OmniState.MODE_SPEAKING if state.speaking else OmniState.MODE_LISTENING,
                    backend=state.backend, backlog=state.backlog, real_time_factor=state.real_time_factor,
                    chunks_processed=state.chunks_processed, chunks_skipped=state.chunks_skipped,
                    active_watches=state.active_watches)
    msg.header.stamp = time_to_msg(now)
    return msg


def diagnostics_to_status(diagnostics: Diagnostics, name: str, hardware_id: str) -> DiagnosticStatus:
    return DiagnosticStatus(level=_lookup(_LEVEL, diagnostics.level, 'diagnostic level'), name=name,
                            message=diagnostics.message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in diagnostics.values.items()])


def diagnostics_to_array(diagnostics: Diagnostics, name: str, hardware_id: str, stamp: TimeMsg) -> DiagnosticArray:
    """The /diagnostics message: one status, stamped ``stamp``."""
    array = DiagnosticArray(status=[diagnostics_to_status(diagnostics, name, hardware_id)])
    array.header.stamp = stamp
    return array
