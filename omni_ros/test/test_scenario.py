"""Scenario rendering and bag writing: determinism, what the pixels and samples show, and real bags."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from omni_ros.scenario import bagtypes
from omni_ros.errors import ConfigError
from omni_ros.scenario import (SEGMENTS, cached_bag, display_segments, load_scenario, load_timeline, parse_scenario,
                               render_audio, render_frame, to_s16le, write_bag)
from omni_ros.tools import make_scenario

START_NS = 1_700_000_000 * 10**9


@pytest.fixture(scope='module')
def crossing():
    return load_scenario('crossing')


@pytest.fixture(scope='module')
def short(crossing):
    """The first second: 10 frames, 20 audio blocks (keeps bag tests fast)."""
    return dataclasses.replace(crossing, duration=1.0)


def patch(image: np.ndarray, x: float, y: float, r: int = 3) -> np.ndarray:
    """Mean RGB of a small square around (x, y)."""
    x, y = int(round(x)), int(round(y))
    return image[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3).mean(axis=0)


def lamp_centres(crossing):
    x, y, w, h = crossing.scene.traffic_lights[0].box
    return {colour: (x + w / 2, y + h / 3 * (i + 0.5)) for i, colour in enumerate(('red', 'amber', 'green'))}


def read_display(image: np.ndarray, display) -> str:
    """Decode the seven-segment display from pixels: a segment is lit if its centre is bright."""
    by_segments = {''.join(sorted(v)): k for k, v in SEGMENTS.items()}
    out = ''
    for segments in display_segments(display):
        lit = ''.join(sorted(name for name, (x0, y0, x1, y1) in segments.items()
                             if patch(image, (x0 + x1) / 2, (y0 + y1) / 2, 1)[0] > 150))
        out += by_segments.get(lit, '?')
    return out.strip()


def test_bundled_crossing_describes_the_sensors(crossing):
    assert crossing.name == 'crossing'
    assert crossing.duration == 16.0
    assert crossing.start_ns == START_NS
    cam, mic = crossing.camera, crossing.audio
    assert (cam.topic, cam.frame_id, cam.width, cam.height, cam.fps, cam.encoding) == (
        '/camera/image_raw', 'camera', 640, 480, 10.0, 'rgb8')
    assert (mic.topic, mic.sample_rate, mic.block_samples, mic.encoding) == ('/audio', 16000, 800, 'S16LE')
    assert len(cam.frame_times(crossing.duration)) == 160


def test_expected_ground_truth_matches_the_scene(crossing):
    expected = {w.id: w for w in crossing.expected.watches}
    light = crossing.scene.traffic_lights[0]
    assert expected['light_green'].at == next(s.at for s in light.states if s.value == 'green')
    display = crossing.scene.displays[0]
    assert [s.value for s in display.values] == ['12', '13', '14', '15', '16']
    assert expected['floor_16'].at == display.values[-1].at
    assert expected['ding'].at == next(s.at for s in crossing.scene.sounds if s.kind == 'ding')
    assert expected['knock'].at is None
    assert {w.modality.value for w in expected.values()} == {'vision', 'audio'}


def test_script_lines_fall_inside_the_expected_windows(crossing):
    """Each watch line of the bundled script answers an expected watch, inside its window."""
    for line in crossing.script.lines:
        if not line.watch:
            continue
        hits = [w for w in crossing.expected.watches if line.matches(w.instruction)]
        assert len(hits) == 1, line
        assert hits[0].at <= line.at <= hits[0].at + hits[0].window


def test_frames_are_deterministic(crossing):
    a = render_frame(crossing, 5.5)
    b = render_frame(crossing, 5.5)
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes()
    # Sensor noise: consecutive frames of a still scene differ slightly, not much.
    c = render_frame(crossing, 5.6)
    diff = np.abs(a.astype(int) - c.astype(int))
    assert 0 < diff.mean() < 2.5 and diff.max() <= 4


def test_traffic_light_is_red_then_green(crossing):
    centres = lamp_centres(crossing)
    before, after = render_frame(crossing, 4.9), render_frame(crossing, 5.0)
    red_before, green_before = patch(before, *centres['red']), patch(before, *centres['green'])
    red_after, green_after = patch(after, *centres['red']), patch(after, *centres['green'])
    assert red_before[0] > 200 and red_before[1] < 150  # lit red (hot white centre raises G, B a little)
    assert green_before.max() < 100  # dark green lens
    assert green_after[1] > 200 and green_after[0] < 150
    assert red_after.max() < 100
    # The amber lamp stays dark throughout.
    assert patch(before, *centres['amber']).max() < 100 and patch(after, *centres['amber']).max() < 100


def test_light_is_a_disc_not_a_box(crossing):
    """Corners of the lamp's bounding square are housing, not lamp colour."""
    x, y = lamp_centres(crossing)['red']
    frame = render_frame(crossing, 1.0)
    r = 34
    assert patch(frame, x, y)[0] > 200
    for dx, dy in ((-r, -r), (r, -r), (-r, r), (r, r)):
        assert patch(frame, x + dx * 0.95, y + dy * 0.95, 1)[0] < 120


def test_floor_display_counts_up_to_16(crossing):
    display = crossing.scene.displays[0]
    shown = {t: read_display(render_frame(crossing, t), display) for t in (0.0, 2.9, 3.0, 6.5, 9.0, 10.4, 10.5, 15.9)}
    assert shown == {0.0: '12', 2.9: '12', 3.0: '13', 6.5: '14', 9.0: '15', 10.4: '15', 10.5: '16', 15.9: '16'}


def test_sign_has_dark_text_on_light_ground(crossing):
    x, y, w, h = crossing.scene.signs[0].box
    region = render_frame(crossing, 0.0)[y + 10:y + h - 10, x + 10:x + w - 10].mean(axis=2)
    dark = (region < 80).mean()
    assert (region > 200).mean() > 0.5 and 0.05 < dark < 0.4


def test_amber_beacon_blinks(crossing):
    lamp = crossing.scene.lamps[0]
    lit, unlit = patch(render_frame(crossing, 2.1), *lamp.center), patch(render_frame(crossing, 2.5), *lamp.center)
    assert lit[0] > 200 and 120 < lit[1] < 230 and lit[2] < 150
    assert unlit.max() < 100


def test_audio_is_deterministic_with_a_ding_at_12s(crossing):
    audio = render_audio(crossing)
    assert audio.dtype == np.float32 and len(audio) == 16 * 16000
    assert to_s16le(audio) == to_s16le(render_audio(crossing))
    rate = 16000
    win = 800
    rms = np.sqrt(np.mean(audio[:len(audio) // win * win].reshape(-1, win) ** 2, axis=1))
    background = np.median(rms)
    assert 0.002 < background < 0.008
    loud = np.flatnonzero(rms > 20 * background) * win / rate
    # Loud windows: the double beep around 7.5 s and the ding from 12.0 s on, nothing else.
    beeps = loud[loud < 10]  # two 0.15 s beeps 0.1 s apart from 7.5 s
    assert beeps.min() == pytest.approx(7.5) and beeps.max() < 7.9
    ding_windows = loud[loud >= 10]
    assert ding_windows.min() == pytest.approx(12.0)
    assert 12.3 < ding_windows.max() < 13.5  # decays within about a second

    def peak_hz(start: float, length: float = 0.25) -> float:
        seg = audio[int(start * rate):int((start + length) * rate)]
        spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        return np.fft.rfftfreq(len(seg), 1 / rate)[np.argmax(spectrum)]

    assert peak_hz(12.0) == pytest.approx(880, abs=8)
    assert peak_hz(7.5, 0.15) == pytest.approx(1000, abs=10)  # the distractor beep is not a ding


def test_type_hash_matches_installed_interfaces():
    """rosbags' hash of our registered AudioChunk equals the one rosidl generated at build time."""
    generated = json.loads((bagtypes.interface_msg_dir() / 'AudioChunk.json').read_text())
    hashes = {h['type_name']: h['hash_string'] for h in generated['type_hashes']}
    assert bagtypes.typestore().hash_rihs01(bagtypes.AUDIO_CHUNK) == hashes[bagtypes.AUDIO_CHUNK]


def read_bag(path):
    from rosbags.rosbag2 import Reader

    with Reader(path) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        messages = [(c.topic, ns, bytes(raw)) for c, ns, raw in reader.messages()]
        custom = reader.custom_data if hasattr(reader, 'custom_data') else {}
    return topics, messages, custom


@pytest.mark.node
def test_bag_round_trip_through_rosbags_and_rclpy(short, tmp_path):
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image as RosImage

    from omni_ros_interfaces.msg import AudioChunk

    bag = write_bag(short, tmp_path)
    assert bag == tmp_path / 'crossing' and (bag / 'crossing.mcap').is_file()
    topics, messages, _ = read_bag(bag)
    assert topics == {'/camera/image_raw': 'sensor_msgs/msg/Image', '/audio': 'omni_ros_interfaces/msg/AudioChunk'}
    assert [ns for _, ns, _ in messages] == sorted(ns for _, ns, _ in messages)
    images = [(ns, deserialize_message(raw, RosImage)) for topic, ns, raw in messages if topic == '/camera/image_raw']
    chunks = [(ns, deserialize_message(raw, AudioChunk)) for topic, ns, raw in messages if topic == '/audio']
    assert len(images) == 10 and len(chunks) == 20

    for k, (ns, msg) in enumerate(images):
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert stamp == ns == START_NS + k * 100_000_000  # receive time = capture time
        fields = (msg.header.frame_id, msg.width, msg.height, msg.encoding, msg.step)
        assert fields == ('camera', 640, 480, 'rgb8', 1920)
        assert bytes(msg.data) == render_frame(short, k / 10).tobytes()

    pcm = to_s16le(render_audio(short))
    for i, (ns, msg) in enumerate(chunks):
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert stamp == ns == START_NS + i * 50_000_000  # stamp = first sample
        assert (msg.sample_rate, msg.channels, msg.encoding) == (16000, 1, 'S16LE')
        assert bytes(msg.data) == pcm[i * 1600:(i + 1) * 1600]


def test_bag_bytes_are_deterministic(short, tmp_path):
    a = write_bag(short, tmp_path / 'a')
    b = write_bag(short, tmp_path / 'b')
    digest = [hashlib.sha256((bag / 'crossing.mcap').read_bytes()).hexdigest() for bag in (a, b)]
    assert digest[0] == digest[1]
    assert (a / 'metadata.yaml').read_text() == (b / 'metadata.yaml').read_text()
    with pytest.raises(ConfigError, match='exists already'):
        write_bag(short, tmp_path / 'a')


@pytest.mark.node
def test_jpeg_bag_holds_compressed_images(short, tmp_path):
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import CompressedImage

    bag = write_bag(short, tmp_path, image_format='jpeg')
    topics, messages, _ = read_bag(bag)
    assert topics['/camera/image_raw/compressed'] == 'sensor_msgs/msg/CompressedImage'
    ns, raw = next((ns, raw) for topic, ns, raw in messages if topic == '/camera/image_raw/compressed')
    msg = deserialize_message(raw, CompressedImage)
    assert msg.format == 'rgb8; jpeg compressed bgr8' and ns == START_NS
    decoded = np.asarray(Image.open(io.BytesIO(bytes(msg.data))).convert('RGB'))
    assert np.abs(decoded.astype(int) - render_frame(short, 0.0).astype(int)).mean() < 4


def test_sqlite3_storage_is_readable(short, tmp_path):
    bag = write_bag(dataclasses.replace(short, duration=0.3), tmp_path, storage='sqlite3')
    topics, messages, _ = read_bag(bag)
    assert len(topics) == 2 and len(messages) == 3 + 6


def test_cached_bag_is_written_once_and_keyed_by_content(short, tmp_path):
    tiny = dataclasses.replace(short, duration=0.2)
    first = cached_bag(tiny, directory=tmp_path)
    mtime = (first / 'crossing.mcap').stat().st_mtime_ns
    again = cached_bag(tiny, directory=tmp_path)
    assert again == first and (again / 'crossing.mcap').stat().st_mtime_ns == mtime
    other = cached_bag(dataclasses.replace(tiny, seed=8), directory=tmp_path)
    assert other != first and other.parent.parent == tmp_path
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no staging leftovers


def test_make_scenario_cli(tmp_path, capsys):
    assert make_scenario.main(['crossing', '--out', str(tmp_path), '--duration', '0.2']) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / 'crossing') and (tmp_path / 'crossing' / 'metadata.yaml').is_file()
    assert make_scenario.main(['nowhere', '--out', str(tmp_path)]) == 2
    assert 'unknown scenario' in capsys.readouterr().err
    assert make_scenario.main(['--list']) == 0
    assert 'crossing' in capsys.readouterr().out.split()


def minimal(**changes):
    data = {
        'name': 'mini', 'duration': 2.0,
        'camera': {'width': 64, 'height': 48, 'fps': 5},
        'audio': {'sample_rate': 16000, 'block': 0.05},
        'scene': {'traffic_lights': [{'box': [2, 2, 20, 40], 'states': [{'at': 0, 'show': 'red'}]}]},
    }
    data.update(changes)
    return data


def test_minimal_scenario_renders(tmp_path):
    scn = parse_scenario(minimal())
    assert render_frame(scn, 0.0).shape == (48, 64, 3)
    assert scn.start_time == 1_700_000_000.0 and scn.script is None


@pytest.mark.parametrize('change, message', [
    ({'duration': -1}, r'^mini.yaml: duration: must be greater than 0'),
    ({'colour': 1}, r'unknown key\(s\) colour'),
    ({'camera': {'width': 64, 'height': 48}}, r'camera.fps: missing'),
    ({'scene': {'traffic_lights': [{'box': [50, 2, 20, 40], 'states': [{'at': 0, 'show': 'red'}]}]}},
     r'traffic_lights\[0\].box: .* must lie inside the 64x48 image'),
    ({'scene': {'traffic_lights': [{'box': [2, 2, 20, 40], 'states': [{'at': 0, 'show': 'blue'}]}]}},
     r'states\[0\].show: must be one of red, amber, green, dark'),
    ({'scene': {'displays': [{'box': [2, 2, 40, 20], 'values': [{'at': 1, 'show': '1'}, {'at': 0, 'show': '2'}]}]}},
     r'displays\[0\].values: times \(at\) must increase'),
    ({'scene': {'displays': [{'box': [2, 2, 40, 20], 'values': [{'at': 0, 'show': 'AB'}]}]}},
     r'seven-segment display shows only digits'),
    ({'scene': {'lamps': [{'center': [5, 5], 'radius': 3, True: [[0, 1]]}]}}, r'quote it'),
    ({'expected': {'watches': [{'id': 'a', 'instruction': 'x', 'modality': 'smell', 'at': 1}]}},
     r'expected.watches\[0\].modality: must be one of'),
    ({'script': {'lines': [{'at': 1, 'say': 'hi', 'confidence': 2}]}},
     r'script.lines\[0\].confidence: must be at most 1'),
])
def test_schema_errors_name_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_scenario(minimal(**change), 'mini.yaml')


def test_timeline_from_scenario_file(crossing):
    timeline = load_timeline(crossing.source)
    assert timeline == crossing.script
    assert [line.at for line in timeline.lines] == sorted(line.at for line in timeline.lines)


# -- elements the generated suite uses -----------------------------------------------------------------

def scene_with(**scene):
    data = minimal()
    data['camera'] = {'width': 640, 'height': 480, 'fps': 10}
    data['duration'] = 4.0
    data['scene'] = scene
    return parse_scenario(data, 'mini.yaml')


def test_lighting_dims_the_room_but_not_the_lamps():
    light = {'box': [100, 60, 80, 216], 'states': [{'at': 0, 'show': 'green'}]}
    bright, dim = scene_with(traffic_lights=[light]), scene_with(traffic_lights=[light], lighting=0.25)
    lamp = (140, 60 + 216 / 3 * 2.5)
    wall = (400, 100)
    assert patch(render_frame(dim, 1.0), *wall).mean() == pytest.approx(patch(render_frame(bright, 1.0), *wall).mean()
                                                                       * 0.25, abs=2)
    assert patch(render_frame(dim, 1.0), *lamp)[1] > 200  # the lit green lamp shines as brightly


def test_timed_signs_and_people_appear_and_go():
    scn = scene_with(signs=[{'box': [40, 40, 200, 80], 'text': 'OPEN', 'visible': [[1.0, 2.0]]}],
                     people=[{'feet': [450, 460], 'height': 320, 'visible': [[2.0, 3.0]], 'clothes': [110, 30, 30]}])
    torso = (450, 460 - 320 + 100)
    frames = {t: render_frame(scn, t) for t in (0.5, 1.5, 2.5, 3.5)}
    signs = {t: f[60:100, 80:200].std() for t, f in frames.items()}  # dark text on a white board, or plain wall
    assert signs[1.5] > 40 and max(signs[0.5], signs[2.5]) < 10
    red = {t: patch(f, *torso)[0] - patch(f, *torso)[2] for t, f in frames.items()}
    assert red[2.5] > 60 and max(red[0.5], red[1.5], red[3.5]) < 20


def test_camera_gaps_drop_frames():
    scn = parse_scenario(minimal(camera={'width': 64, 'height': 48, 'fps': 5, 'gaps': [[0.4, 1.2]]}))
    assert scn.camera.frame_times(2.0) == [0.0, 0.2, 1.2, 1.4, 1.6, 1.8]


def onsets(audio: np.ndarray, rate: int = 16000, win: int = 160) -> list[float]:
    """Times where the 10 ms level jumps tenfold over the previous 50 ms (strikes, knocks, words)."""
    rms = np.sqrt(np.mean(audio[:len(audio) // win * win].reshape(-1, win) ** 2, axis=1)) + 1e-6
    return [i * win / rate for i in range(5, len(rms)) if rms[i] > 10 * rms[i - 5:i].max()]


def test_doorbell_knock_and_speech_sound_when_and_as_told():
    scn = scene_with(sounds=[{'kind': 'doorbell', 'at': 0.5, 'level': 0.5, 'frequency': 660.0, 'duration': 1.0},
                             {'kind': 'knock', 'at': 2.3, 'level': 0.4, 'count': 3, 'gap': 0.25},
                             {'kind': 'speech', 'at': 3.2, 'level': 0.3, 'text': 'hello there', 'voice': 'kal'}])
    audio = render_audio(scn)
    assert to_s16le(audio) == to_s16le(render_audio(scn))  # deterministic, knocks included

    def peak_hz(start: float, length: float = 0.1) -> float:
        seg = audio[int(start * 16000):int((start + length) * 16000)]
        return np.fft.rfftfreq(len(seg), 1 / 16000)[np.argmax(np.abs(np.fft.rfft(seg * np.hanning(len(seg)))))]

    assert peak_hz(0.5) == pytest.approx(660, abs=15)
    assert peak_hz(1.0) == pytest.approx(660 * 0.8, abs=15)  # the dong, half a second later
    assert [t for t in onsets(audio) if 2.0 < t < 3.0] == pytest.approx([2.3, 2.55, 2.8], abs=0.011)
    assert np.abs(audio[int(3.2 * 16000):]).max() == pytest.approx(0.3, abs=0.01)  # the words, at their level
    assert np.abs(audio[int(3.05 * 16000):int(3.2 * 16000)]).max() < 0.05


@pytest.mark.parametrize('sound, message', [
    ({'kind': 'knock', 'at': 1, 'level': 0.3, 'frequency': 400}, r'unknown key\(s\) frequency'),
    ({'kind': 'speech', 'at': 1, 'level': 0.3}, r'sounds\[0\].text: missing'),
    ({'kind': 'speech', 'at': 1, 'level': 0.3, 'text': 'hi', 'voice': 'hal'}, r'voice: must be one of'),
    ({'kind': 'ding', 'at': 1, 'level': 0.3}, r'sounds\[0\].frequency: missing'),
])
def test_each_sound_kind_takes_its_own_keys(sound, message):
    with pytest.raises(ConfigError, match=message):
        parse_scenario(minimal(scene={'sounds': [sound]}), 'mini.yaml')


@pytest.mark.parametrize('scene, message', [
    ({'people': [{'feet': [30, 40], 'height': 45, 'visible': [[0, 1]]}]}, r'people\[0\].feet: .* must be inside'),
    ({'people': [{'feet': [30, 40], 'height': 30}]}, r'people\[0\].visible: missing'),
    ({'signs': [{'box': [2, 2, 20, 20], 'visible': [[2, 1]]}]}, r'visible\[0\]: must be \[start, end\]'),
    ({'lighting': 0}, r'scene.lighting: must be greater than 0'),
])
def test_new_scene_elements_are_validated(scene, message):
    with pytest.raises(ConfigError, match=message):
        parse_scenario(minimal(scene=scene), 'mini.yaml')
