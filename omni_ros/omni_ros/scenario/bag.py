"""Writing a scenario as a rosbag2 bag (MCAP by default), without ROS: rosbags serializes the messages.

Messages are written in stamp order with receive time = header stamp, so a player reproduces the
sensor timing exactly. ``cached_bag`` keeps generated bags under a cache directory keyed by the
scenario's content and the generator version, so demos and tests render each bag once.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Iterator

import numpy as np

from omni_ros.scenario import bagtypes
from omni_ros.errors import ConfigError
from omni_ros.scenario.model import Scenario, load_scenario
from omni_ros.scenario.render import render_audio, render_frame, to_s16le

if TYPE_CHECKING:  # rosbags is imported where bags are written
    from rosbags.interfaces import Connection
    from rosbags.typesys.store import Typestore

# Bump whenever rendering or bag layout changes, so cached bags are regenerated.
GENERATOR_VERSION = 2
IMAGE_FORMATS = ('raw', 'jpeg')
STORAGES = ('mcap', 'sqlite3')
JPEG_QUALITY = 90
# image_transport's convention for a JPEG made from an rgb8 image.
JPEG_FORMAT = 'rgb8; jpeg compressed bgr8'
ROSBAG2_VERSION: Final = 9  # what rosbag2 in Jazzy and Kilted writes and reads


def image_topic(scn: Scenario, image_format: str = 'raw') -> str:
    """Where frames go: the camera topic, or image_transport's ``<topic>/compressed`` for JPEG."""
    return scn.camera.topic if image_format == 'raw' else f'{scn.camera.topic.rstrip("/")}/compressed'


def _stamp(store: Typestore, ns: int) -> Any:  # builtin_interfaces/msg/Time (a rosbags class)
    Time = store.types['builtin_interfaces/msg/Time']
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _header(store: Typestore, ns: int, frame_id: str) -> Any:
    return store.types['std_msgs/msg/Header'](stamp=_stamp(store, ns), frame_id=frame_id)


def _image_message(store: Typestore, scn: Scenario, t: float, ns: int, image_format: str) -> tuple[str, Any]:
    frame = render_frame(scn, t)
    header = _header(store, ns, scn.camera.frame_id)
    if image_format == 'raw':
        height, width = frame.shape[:2]
        return bagtypes.IMAGE, store.types[bagtypes.IMAGE](
            header=header, height=height, width=width, encoding='rgb8', is_bigendian=0, step=width * 3,
            data=frame.reshape(-1))
    from PIL import Image  # only the JPEG path needs Pillow's encoder

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format='JPEG', quality=JPEG_QUALITY)
    return bagtypes.COMPRESSED_IMAGE, store.types[bagtypes.COMPRESSED_IMAGE](
        header=header, format=JPEG_FORMAT, data=np.frombuffer(buf.getvalue(), np.uint8))


def _messages(scn: Scenario, image_format: str) -> Iterator[tuple[str, int, str, object]]:
    """(topic, receive time ns, type name, message) for the whole scenario, in time order."""
    store = bagtypes.typestore()
    audio_spec = scn.audio
    pcm = to_s16le(render_audio(scn))
    block = audio_spec.block_samples
    n_samples = len(pcm) // 2
    AudioChunk = store.types[bagtypes.AUDIO_CHUNK]

    # (time, order within equal times, kind, index): audio before an image stamped at the same time.
    timeline: list[tuple[int, int, str, float]] = [
        (scn.start_ns + i * 1_000_000_000 // audio_spec.sample_rate, 0, 'audio', i)
        for i in range(0, n_samples, block)]
    timeline += [(scn.stamp_ns(t), 1, 'image', t) for t in scn.camera.frame_times(scn.duration)]
    timeline.sort(key=lambda item: (item[0], item[1]))
    topic = image_topic(scn, image_format)
    for ns, _, kind, where in timeline:
        if kind == 'audio':
            first = int(where)  # a sample index for audio
            data = pcm[first * 2:min(first + block, n_samples) * 2]
            yield audio_spec.topic, ns, bagtypes.AUDIO_CHUNK, AudioChunk(
                header=_header(store, ns, audio_spec.frame_id), sample_rate=audio_spec.sample_rate,
                channels=1, encoding='S16LE', data=np.frombuffer(data, np.uint8), turn_id=0)
        else:
            typename, msg = _image_message(store, scn, where, ns, image_format)
            yield topic, ns, typename, msg


def write_bag(scn: Scenario, out_dir: str | Path, *, image_format: str = 'raw', storage: str = 'mcap',
              overwrite: bool = False) -> Path:
    """Render ``scn`` into the bag directory ``out_dir/<name>`` (``<name>_jpeg`` for JPEG); return it.

    The bag appears complete or not at all: it is written next to its final place and renamed.
    """
    from rosbags.rosbag2 import StoragePlugin, Writer

    if image_format not in IMAGE_FORMATS:
        raise ConfigError(f"image_format must be one of {', '.join(IMAGE_FORMATS)}; got {image_format!r}")
    if storage not in STORAGES:
        raise ConfigError(f"storage must be one of {', '.join(STORAGES)}; got {storage!r}")
    out_dir = Path(out_dir)
    bag = out_dir / (scn.name if image_format == 'raw' else f'{scn.name}_{image_format}')
    if bag.exists() and not overwrite:
        raise ConfigError(f'{bag} exists already; remove it or pass overwrite=True (--force)')
    out_dir.mkdir(parents=True, exist_ok=True)
    store = bagtypes.typestore()
    with tempfile.TemporaryDirectory(prefix=f'.{bag.name}.', dir=out_dir) as tmp:
        staged = Path(tmp) / bag.name
        writer = Writer(staged, version=ROSBAG2_VERSION,
                        storage_plugin=StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3)
        writer.set_custom_data('omni_ros.scenario', scn.name)
        writer.set_custom_data('omni_ros.generator_version', str(GENERATOR_VERSION))
        with writer:
            connections: dict[str, Connection] = {}
            for topic, ns, typename, msg in _messages(scn, image_format):
                if topic not in connections:
                    connections[topic] = writer.add_connection(topic, typename, typestore=store)
                writer.write(connections[topic], ns, store.serialize_cdr(msg, typename))
        if bag.exists():
            shutil.rmtree(bag)
        staged.rename(bag)
    return bag


def cache_dir() -> Path:
    """$OMNI_ROS_CACHE, else $XDG_CACHE_HOME/omni_ros, else ~/.cache/omni_ros."""
    if os.environ.get('OMNI_ROS_CACHE'):
        return Path(os.environ['OMNI_ROS_CACHE'])
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'omni_ros'


def cache_key(scn: Scenario, image_format: str = 'raw', storage: str = 'mcap') -> str:
    """Content hash: the parsed scenario (not its file's comments), generator and renderer versions."""
    import PIL

    # The installed message definitions too: a bag written with an older AudioChunk would not deserialize.
    msgs = ''.join(p.read_text() for p in sorted(bagtypes.interface_msg_dir().glob('*.msg')))
    text = '\n'.join((repr(scn), str(GENERATOR_VERSION), image_format, storage, np.__version__, PIL.__version__,
                      msgs))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def cached_bag(scenario: str | Path | Scenario, *, image_format: str = 'raw', storage: str = 'mcap',
               directory: str | Path | None = None) -> Path:
    """The bag for ``scenario`` from the cache, written first if it is not there yet."""
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    root = Path(directory) if directory is not None else cache_dir()
    slot = root / f'{scn.name}-{image_format}-{storage}-{cache_key(scn, image_format, storage)}'
    bag = slot / (scn.name if image_format == 'raw' else f'{scn.name}_{image_format}')
    if (bag / 'metadata.yaml').is_file():
        return bag
    root.mkdir(parents=True, exist_ok=True)
    # Write into a private directory and rename it into place: a concurrent writer either wins the
    # rename or finds a complete bag, never a half-written one.
    staging = Path(tempfile.mkdtemp(prefix=f'.{slot.name}.', dir=root))
    try:
        write_bag(scn, staging, image_format=image_format, storage=storage)
        try:
            staging.rename(slot)
        except OSError:
            if not (bag / 'metadata.yaml').is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return bag
