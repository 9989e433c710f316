"""omni_eval --instructions and the bundled instruction lists: zero wrong meanings, most followed right.

The lists are read by the CPU backend's instruction reader (no models needed, so this is fast).
"""

from __future__ import annotations

import re

import pytest

from omni_ros.tools import evaluate, instruction_eval
from omni_ros.tools.instruction_eval import Meaning, load_list, parse_meaning, score, summarize, verdict

# Every class of issue 13 has entries in the main list.
REQUIRED_CATEGORIES = {'light', 'qualifier', 'negation', 'change_away', 'conjunction', 'floor', 'sign', 'person',
                       'person_action', 'identity', 'count', 'speech', 'words', 'lighting', 'sound', 'sound_source',
                       'time', 'unknown', 'chinese', 'spoken', 'talk', 'cancel'}


@pytest.fixture(scope='module')
def everyday():
    return load_list('everyday')


def test_the_main_list_has_several_hundred_entries_across_every_category(everyday) -> None:
    assert len(everyday) >= 300
    assert REQUIRED_CATEGORIES <= {e.category for e in everyday}
    kinds = {k for e in everyday for k, _ in e.expected.targets}
    assert {'people_count', 'lighting'} <= kinds
    values = {v for e in everyday for k, v in e.expected.targets if k == 'sound'}
    assert {'phone', 'kettle', 'smoke_alarm', 'co_alarm'} <= values


def test_the_main_list_is_not_the_suites_phrasings(everyday) -> None:
    from omni_ros.scenario.suite import PHRASINGS

    templates = [re.compile(re.sub(r'\\\{\w+\\\}', '.+', re.escape(p)) + '$') for ps in PHRASINGS.values() for p in ps]
    same = [e.text for e in everyday if any(t.match(e.text.lower().rstrip('.')) for t in templates)]
    assert len(same) <= len(everyday) // 20, same  # a few plain phrasings coincide, the list is its own


@pytest.mark.parametrize('name', ['everyday', 'held_out'])
def test_no_instruction_is_followed_with_another_meaning(name: str) -> None:
    report = summarize(score(load_list(name)))
    wrong = [(o.entry.text, str(o.entry.expected), str(o.got)) for o in report.outcomes if o.verdict == 'wrong']
    assert wrong == []


def test_most_of_the_main_list_is_followed_right(everyday) -> None:
    total = summarize(score(everyday)).total
    assert total.right_rate is not None and total.right_rate >= 0.6
    assert total.followed_rate is not None and total.followed_rate >= 0.6  # of those that should be followed


def test_through_the_backends_check_nothing_gets_another_meaning(everyday) -> None:
    """The backend may refuse more (a perception switched off, or one this build lacks), never mean more."""
    from omni_ros.backends import create_backend

    checker = create_backend('cpu', {'people': False})  # not set up: no models are loaded
    report = summarize(score(everyday, checker.check_instruction))
    assert report.total.wrong == 0
    refused = [o for o in report.outcomes if o.verdict == 'refused' and not o.entry.spoken]
    assert any('person' in str(o.entry.expected) for o in refused)


@pytest.mark.parametrize('expected, got, result', [
    ('light_color green', 'light_color green', 'right'),
    ('light_color green', 'light_color red', 'wrong'),
    ('light_color green', 'refuse', 'refused'),
    ('refuse', 'sound beep', 'wrong'),
    ('refuse', 'refuse', 'right'),
    ('refuse', 'talk', 'right'),
    ('talk', 'sound beep', 'wrong'),
    ('talk', 'refuse', 'refused'),
    ('question', 'question', 'right'),
    ('cancel sound doorbell', 'cancel sound doorbell', 'right'),
    ('cancel sound doorbell', 'cancel sound knock', 'wrong'),
    ('cancel all', 'talk', 'refused'),
])
def test_verdicts(expected: str, got: str, result: str) -> None:
    assert verdict(parse_meaning(expected, None, 'x'), parse_meaning(got, None, 'x')) == result


def test_every_occurrence_is_part_of_the_meaning() -> None:
    every = parse_meaning('sound knock', True, 'x')
    assert verdict(every, Meaning('watch', every.targets, continuous=False)) == 'wrong'
    assert verdict(parse_meaning('sound knock', None, 'x'), Meaning('watch', every.targets, continuous=True)) == 'right'


def test_omni_eval_instructions_reports_and_fails_on_a_wrong_meaning(tmp_path, capsys) -> None:
    good = tmp_path / 'good.yaml'
    good.write_text('instructions:\n'
                    '  - {set: "tell me when the light turns green", means: light_color green, category: light}\n'
                    '  - {set: "tell me when the light is no longer red", means: refuse}\n'
                    '  - {say: "hey robot, never mind the doorbell", means: cancel sound doorbell}\n', encoding='utf-8')
    assert evaluate.main(['--instructions', str(good), '--json', str(tmp_path / 'out.json')]) == 0
    out = capsys.readouterr().out
    assert '3 entries, right 3' in out and 'wrong meaning 0' in out
    assert '"right": 3' in (tmp_path / 'out.json').read_text()
    bad = tmp_path / 'bad.yaml'
    bad.write_text('instructions:\n  - {set: "alert me when the oven beeps", means: refuse}\n', encoding='utf-8')
    assert evaluate.main(['--instructions', str(bad)]) == 1
    assert "'alert me when the oven beeps': expected refuse, got sound beep" in capsys.readouterr().out


@pytest.mark.parametrize('text, message', [
    ('instructions: []\n', 'non-empty list'),
    ('instructions:\n  - {set: "x", say: "y", means: refuse}\n', 'exactly one of set: or say:'),
    ('instructions:\n  - {set: "x", means: talk}\n', 'spoken entries'),
    ('instructions:\n  - {set: "x", means: light_colour red}\n', 'names no condition kind'),
    ('instructions:\n  - {set: "x", means: refuse, colour: red}\n', 'unknown key'),
])
def test_a_bad_list_is_refused_with_what_to_change(tmp_path, capsys, text: str, message: str) -> None:
    path = tmp_path / 'list.yaml'
    path.write_text(text, encoding='utf-8')
    assert evaluate.main(['--instructions', str(path)]) == 2
    assert message in capsys.readouterr().err


def test_instructions_take_no_input_and_only_the_cpu_backend(capsys) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(['crossing', '--instructions', 'everyday'])
    assert evaluate.main(['--instructions', 'everyday', '--backend', 'scripted']) == 2
    assert "reading of instructions" in capsys.readouterr().err
    assert evaluate.main(['--instructions', 'no_such_list']) == 2
    assert 'everyday' in capsys.readouterr().err  # names the bundled lists
    assert instruction_eval.BUNDLED_DIR.is_dir()
