"""omni_eval: the alert matching rule and its metrics, and a full offline run on the crossing scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from omni_ros.errors import ConfigError
from omni_ros.scenario.model import ExpectedWatch
from omni_ros.tools.evaluate import evaluate_alerts, load_watch_list, match_alerts, summarize
from omni_ros.data import Modality


def watch(at: float | None, window: float = 3.0, id: str = 'w', modality: Modality = Modality.VISION):
    return ExpectedWatch(id=id, instruction='tell me when the light turns green', modality=modality, at=at,
                         window=window)


@pytest.mark.parametrize('alerts, tp, fp, dup, miss, latency', [
    ([], 0, 0, 0, 1, None),                         # nothing said: a miss
    ([5.0], 1, 0, 0, 0, 0.0),                       # on time
    ([4.0], 1, 0, 0, 0, -1.0),                      # early edge of the slack is inside
    ([3.99], 0, 1, 0, 1, None),                     # just before the slack: false alarm and a miss
    ([8.0], 1, 0, 0, 0, 3.0),                       # last moment of the window
    ([8.01], 0, 1, 0, 1, None),                     # too late: false alarm and a miss
    ([6.0, 5.5, 7.0], 1, 0, 2, 0, 0.5),             # unsorted: the first in time counts, the rest are duplicates
    ([1.0, 5.2, 12.0], 1, 2, 0, 0, 0.2),            # false alarms on both sides of a hit
])
def test_match_alerts_edges(alerts, tp, fp, dup, miss, latency):
    r = match_alerts(watch(5.0), alerts)
    assert (r.true_positives, r.false_positives, r.duplicates, r.misses) == (tp, fp, dup, miss)
    if latency is None:
        assert r.latency is None
    else:
        assert r.latency == pytest.approx(latency)
    assert r.recall == tp
    assert r.precision == (tp / (tp + fp) if tp + fp else None)
    assert len(r.false_alarm_times) == fp


@pytest.mark.parametrize('alerts, fp', [([], 0), ([2.0], 1), ([2.0, 2.5, 9.0], 3)])
def test_never_happening_watch_only_has_false_positives(alerts, fp):
    r = match_alerts(watch(None), alerts)
    assert (r.true_positives, r.false_positives, r.duplicates, r.misses) == (0, fp, 0, 0)
    assert r.recall is None
    assert r.precision == (0.0 if fp else None)


def test_evaluate_groups_by_modality_and_overall():
    expected = [watch(5.0, id='a'), watch(10.0, id='b'), watch(3.0, 2.0, id='c', modality=Modality.AUDIO),
                watch(None, id='d', modality=Modality.AUDIO)]
    alerts = {'a': [5.5], 'b': [], 'c': [3.0, 4.0], 'd': [7.0], 'stray': [1.0]}
    report = evaluate_alerts(expected, alerts)
    assert [r.id for r in report['watches']] == ['a', 'b', 'c', 'd']
    by = {g.name: g for g in report['modalities']}
    assert (by['vision'].true_positives, by['vision'].misses, by['vision'].recall) == (1, 1, 0.5)
    assert by['vision'].precision == 1.0 and by['vision'].latency_median == pytest.approx(0.5)
    assert (by['audio'].true_positives, by['audio'].false_positives, by['audio'].duplicates) == (1, 1, 1)
    assert by['audio'].precision == 0.5 and by['audio'].recall == 1.0
    overall = report['overall']
    assert (overall.true_positives, overall.false_positives, overall.misses) == (2, 1, 1)
    assert overall.recall == pytest.approx(2 / 3) and overall.precision == pytest.approx(2 / 3)
    assert overall.latency_median == pytest.approx(0.25) and overall.latency_max == pytest.approx(0.5)


def test_summary_of_nothing_is_undefined_not_zero():
    g = summarize('none', [])
    assert (g.precision, g.recall, g.latency_median) == (None, None, None)


def test_watch_list_file(tmp_path):
    path = tmp_path / 'watches.yaml'
    path.write_text('expected:\n  watches:\n'
                    '    - {id: bell, instruction: tell me when the doorbell rings, modality: audio, at: 4.5}\n'
                    '    - {id: knock, instruction: tell me when someone knocks, modality: audio, at: null}\n')
    watches = load_watch_list(path)
    assert [(w.id, w.at, w.window) for w in watches] == [('bell', 4.5, 3.0), ('knock', None, 3.0)]
    path.write_text('watches:\n  - {id: x, instruction: y, modality: smell, at: 1}\n')
    with pytest.raises(ConfigError, match='modality'):
        load_watch_list(path)
    path.write_text('watches: []\n')
    with pytest.raises(ConfigError, match='no watches'):
        load_watch_list(path)


def test_bag_without_watch_list_is_refused(tmp_path):
    (tmp_path / 'metadata.yaml').write_text('rosbag2_bagfile_information: {}\n')
    from omni_ros.tools.evaluate import main
    assert main([str(tmp_path), '--no-progress']) == 2


def test_crossing_end_to_end(tmp_path):
    """The command on the bundled scenario with the cpu backend, as a user runs it (no DDS, no rclpy)."""
    out = tmp_path / 'eval.json'
    code = ('import sys, omni_ros.tools.evaluate as e; r = e.main(sys.argv[1:]); '
            'assert "rclpy" not in sys.modules, "rclpy imported"; sys.exit(r)')
    proc = subprocess.run([sys.executable, '-c', code, 'crossing', '--backend', 'cpu', '--json', str(out)],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert 'chunk' in proc.stderr  # the progress bar
    for name in ('light_green', 'floor_16', 'ding', 'knock', 'precision', 'recall'):
        assert name in proc.stdout
    data = json.loads(out.read_text())
    assert data['backend'] == 'cpu' and data['chunks'] == 64  # 16 s in the backend's 0.25 s hops
    per = {w['id']: w for w in data['watches']}
    for name in ('light_green', 'floor_16', 'ding'):
        assert per[name]['recall'] == 1.0 and per[name]['precision'] == 1.0, per[name]
        assert per[name]['false_positives'] == 0
    assert per['knock']['alerts'] == [] and per['knock']['false_positives'] == 0
    # Latency is publication (hop end + processing) minus onset: after the start of the hop decided on,
    # and for the light, which the frame at its onset shows, within that hop and its processing.
    for name in ('light_green', 'floor_16', 'ding'):
        assert per[name]['latency'] > per[name]['unit_start'], per[name]
    assert 0.0 < per['light_green']['latency'] <= 0.6, per['light_green']
    assert 'unit start' in proc.stdout
    assert data['overall']['latency_median'] <= 1.5
    for group in data['modalities']:
        assert group['recall'] == 1.0 and group['precision'] == 1.0


def run_eval(*args: str) -> subprocess.CompletedProcess:
    code = 'import sys, omni_ros.tools.evaluate as e; sys.exit(e.main(sys.argv[1:]))'
    return subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))


def test_suite_subset_end_to_end(tmp_path):
    """omni_eval --suite on three scenarios: totals per watch kind, floors, JSON, and the scenarios saved."""
    out = tmp_path / 'suite.json'
    proc = run_eval('--suite', '--only', 'floor-0[0-2]', '--option', 'speak=false', '--json', str(out),
                    '--save-scenarios', str(tmp_path / 'scenarios'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'chunk' in proc.stderr  # the progress bar
    assert 'by kind' in proc.stdout and 'floors (recall and precision >= 0.9' in proc.stdout
    data = json.loads(out.read_text())
    assert data['scenarios'] == ['floor-00', 'floor-01', 'floor-02'] and data['below_floors'] == {}
    kinds = {g['name']: g for g in data['kinds']}
    assert kinds['floor']['true_positives'] == 3 and kinds['floor']['false_positives'] == 0
    assert kinds['floor']['latency_median'] <= 1.5
    assert {w['scenario'] for w in data['watches']} == set(data['scenarios'])
    # Every watch is in the table's totals, once.
    assert sum(g['watches'] for g in data['kinds']) == len(data['watches'])
    # A saved scenario is a scenario file: evaluating it alone gives the same floor figures.
    saved = tmp_path / 'scenarios' / 'floor-01.yaml'
    single = tmp_path / 'single.json'
    assert run_eval(str(saved), '--option', 'speak=false', '--no-progress', '--json', str(single)).returncode == 0
    alone = {w['id']: w for w in json.loads(single.read_text())['watches']}
    together = {w['id']: w for w in data['watches'] if w['scenario'] == 'floor-01'}
    assert {k: w['alerts'] for k, w in alone.items()} == {k: w['alerts'] for k, w in together.items()}


@pytest.mark.parametrize('args, message', [
    ([], 'give an input'),
    (['crossing', '--suite'], 'not both'),
    (['crossing', '--only', 'light-*'], '--only only apply with --suite'),
    (['--suite', '--watches', 'w.yaml'], '--watches do not apply with --suite'),
])
def test_suite_arguments_are_checked(args, message, capsys):
    from omni_ros.tools.evaluate import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_suite_filter_that_matches_nothing_names_the_groups(capsys):
    from omni_ros.tools.evaluate import main

    assert main(['--suite', '--only', 'lights-*', '--no-progress']) == 2
    err = capsys.readouterr().err
    assert 'matches no scenario' in err and 'light-*' in err and 'sounds-*' in err


def test_unmappable_instruction_is_refused_before_set_up(tmp_path, capsys):
    from omni_ros.tools.evaluate import main

    path = tmp_path / 'watches.yaml'
    path.write_text('watches:\n  - {id: rain, instruction: tell me when it rains, modality: vision, at: 2.0}\n')
    assert main(['crossing', '--watches', str(path), '--no-progress']) == 2
    err = capsys.readouterr().err
    assert "cannot follow 'tell me when it rains'" in err and 'traffic light' in err  # what it understands


def test_floors_name_what_a_kind_misses():
    from omni_ros.scenario.suite import Floors
    from omni_ros.tools.evaluate import GroupResult, below_floors

    def group(precision, recall, latency):
        return GroupResult('ding', 10, 0, 0, 0, 0, precision, recall, latency, latency)

    assert below_floors(group(1.0, 0.9, 2.0), Floors()) == []
    assert below_floors(group(None, None, None), Floors()) == []  # nothing expected, nothing said
    assert below_floors(group(0.85, 0.8, 2.6), Floors()) == [
        'recall 0.80 < 0.9', 'precision 0.85 < 0.9', 'median latency 2.60 s > 2.0 s', 'max latency 2.60 s > 2.5 s']
