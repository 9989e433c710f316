"""How the CPU backend reads a list of instructions: right, refused, or wrong meaning.

    omni_eval --instructions everyday            # the bundled list (omni_ros/scenarios/instructions/)
    omni_eval --instructions my_phrasings.yaml   # your own, to check your phrasing before relying on it

The list's format is described at the top of scenarios/instructions/everyday.yaml. An entry is
- right: read with the meaning it should have (a watch, a refusal, a cancellation, talk or a question);
- refused: not followed although it should be (the robot says so: safe, but not useful);
- wrong: followed with another meaning, or followed although it should be refused: the outcome that must
  never happen, since the robot then watches for something else while the user believes it is watching.
SetWatch entries (``set:``) go through the backend's check_instruction (so disabled perceptions refuse) and
its instruction reader; spoken entries (``say:``) through the reader of recognised speech.
"""

from __future__ import annotations

import collections
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from omni_ros.backends.cpu.conditions import Condition, ConditionKind
from omni_ros.backends.cpu.instructions import understand
from omni_ros.backends.cpu.spoken import UtteranceKind, classify_utterance
from omni_ros.errors import ConfigError, WatchRejectedError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / 'scenarios' / 'instructions'
VERDICTS = ('right', 'refused', 'wrong')
_OUTCOMES = ('watch', 'refuse', 'talk', 'question', 'cancel')
_SPOKEN_ONLY = ('talk', 'question', 'cancel')


@dataclass(frozen=True)
class Meaning:
    """What an instruction is read as: ``outcome`` and, for a watch or a cancellation, its conditions."""

    outcome: str  # watch | refuse | talk | question | cancel
    targets: frozenset[tuple[str, str | None]] = frozenset()  # (kind, value or None: any)
    scope: str = ''  # cancel only: 'all' | 'latest' | '' (the targets)
    continuous: bool | None = None

    def __str__(self) -> str:
        if self.outcome not in ('watch', 'cancel'):
            return self.outcome
        what = self.scope or ' | '.join(f'{k} {v}' if v else k for k, v in sorted(self.targets, key=str))
        every = ' (every time)' if self.continuous else ''
        return f'{what}{every}' if self.outcome == 'watch' else f'cancel {what}'


@dataclass(frozen=True)
class Entry:
    text: str
    spoken: bool
    expected: Meaning
    category: str = ''


@dataclass
class Outcome:
    entry: Entry
    got: Meaning
    verdict: str
    detail: str = ''  # the meaning sentence, or the refusal message

    def as_dict(self) -> dict[str, Any]:
        return {'text': self.entry.text, 'mode': 'say' if self.entry.spoken else 'set',
                'category': self.entry.category, 'expected': str(self.entry.expected), 'got': str(self.got),
                'verdict': self.verdict, 'detail': self.detail}


def parse_meaning(text: str, every: bool | None, where: str) -> Meaning:
    words = str(text).split()
    if not words:
        raise ConfigError(f'{where}: means is empty')
    head = words[0]
    if head in ('refuse', 'talk', 'question') and len(words) == 1:
        return Meaning(head)
    if head == 'cancel':
        rest = ' '.join(words[1:])
        if rest in ('all', 'latest'):
            return Meaning('cancel', scope=rest)
        return Meaning('cancel', frozenset(_target(p, where) for p in rest.split('|')))
    return Meaning('watch', frozenset({_target(str(text), where)}), continuous=every)


def _target(text: str, where: str) -> tuple[str, str | None]:
    words = text.split()
    kinds = [k.value for k in ConditionKind]
    if not words or words[0] not in kinds:
        raise ConfigError(f"{where}: means {text!r} names no condition kind; use one of {', '.join(kinds)}, "
                          'refuse, talk, question or cancel ...')
    return words[0], ' '.join(words[1:]) or None


def load_list(name_or_path: str | Path) -> list[Entry]:
    """Entries of an instruction list: a bundled name ('everyday') or a YAML path."""
    import yaml

    path = Path(name_or_path)
    if not path.is_file():
        bundled = BUNDLED_DIR / f'{name_or_path}.yaml'
        if not bundled.is_file():
            names = ', '.join(sorted(p.stem for p in BUNDLED_DIR.glob('*.yaml')))
            raise ConfigError(f'no instruction list {str(name_or_path)!r}: give a YAML path or a bundled list '
                              f'({names})')
        path = bundled
    data = yaml.safe_load(path.read_text(encoding='utf-8'))
    items = data.get('instructions') if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f'{path}: expected a non-empty list under instructions:')
    entries = []
    for i, item in enumerate(items):
        where = f'{path}: instructions[{i}]'
        if not isinstance(item, dict) or ('set' in item) == ('say' in item) or 'means' not in item:
            raise ConfigError(f'{where}: give exactly one of set: or say:, and means:')
        spoken = 'say' in item
        text = str(item['say' if spoken else 'set'])
        every = item.get('every')
        if every is not None and not isinstance(every, bool):
            raise ConfigError(f'{where}: every must be true or false')
        unknown = set(item) - {'set', 'say', 'means', 'every', 'category'}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        expected = parse_meaning(str(item['means']), every, where)
        if not spoken and expected.outcome in _SPOKEN_ONLY:
            raise ConfigError(f'{where}: means {expected.outcome} applies to spoken entries (say:) only')
        entries.append(Entry(text, spoken, expected, str(item.get('category', ''))))
    return entries


def _watch_meaning(condition: Condition, continuous: bool) -> Meaning:
    return Meaning('watch', frozenset({(condition.kind.value, condition.value or None)}), continuous=continuous)


def read_set(text: str, check: Callable[[str], object] | None = None) -> tuple[Meaning, str]:
    """How a SetWatch instruction is read (``check``: the backend's check_instruction, which may refuse)."""
    result = understand(text)
    if result.parsed is None:
        return Meaning('refuse'), result.refusal.message() if result.refusal else ''
    if check is not None:
        try:
            check(text)
        except WatchRejectedError as error:
            return Meaning('refuse'), str(error)
    return _watch_meaning(result.parsed.condition, result.parsed.continuous), result.parsed.meaning


def read_said(text: str, check: Callable[[str], object] | None = None) -> tuple[Meaning, str]:
    intent = classify_utterance(text)
    kind = intent.kind
    if kind is UtteranceKind.WATCH and intent.parsed is not None:
        return _watch_meaning(intent.parsed.condition, intent.parsed.continuous), intent.parsed.meaning
    if kind is UtteranceKind.CANCEL and intent.cancel is not None:
        c = intent.cancel
        scope = 'all' if c.every else 'latest' if c.latest else ''
        return Meaning('cancel', frozenset((k.value, v) for k, v in c.matches), scope), c.words
    if kind is UtteranceKind.QUESTION:
        return Meaning('question'), intent.question.value if intent.question else ''
    if kind is UtteranceKind.WATCH_REJECTED:
        return Meaning('refuse'), intent.refusal.message() if intent.refusal else ''
    return Meaning('talk'), ''


def verdict(expected: Meaning, got: Meaning) -> str:
    if expected.outcome == 'watch':
        if got.outcome != 'watch':
            return 'wrong' if got.outcome == 'cancel' else 'refused'
        same = got.targets == expected.targets and (expected.continuous is None
                                                    or expected.continuous == got.continuous)
        return 'right' if same else 'wrong'
    if expected.outcome == 'refuse':
        return 'wrong' if got.outcome in ('watch', 'cancel') else 'right'
    if expected.outcome == 'cancel':
        if got.outcome == 'cancel':
            return 'right' if (got.scope, got.targets) == (expected.scope, expected.targets) else 'wrong'
        return 'wrong' if got.outcome == 'watch' else 'refused'
    # talk or question: setting or ending a watch is wrong, any other reply is merely unneeded
    if got.outcome in ('watch', 'cancel'):
        return 'wrong'
    return 'right' if got.outcome == expected.outcome else 'refused'


def score(entries: Iterable[Entry], check: Callable[[str], object] | None = None) -> list[Outcome]:
    outcomes = []
    for entry in entries:
        got, detail = (read_said if entry.spoken else read_set)(entry.text, check)
        outcomes.append(Outcome(entry, got, verdict(entry.expected, got), detail))
    return outcomes


@dataclass
class Totals:
    name: str
    entries: int = 0
    right: int = 0
    refused: int = 0
    wrong: int = 0
    to_follow: int = 0  # entries whose meaning is a watch or a cancellation
    followed_right: int = 0

    @property
    def right_rate(self) -> float | None:
        return self.right / self.entries if self.entries else None

    @property
    def followed_rate(self) -> float | None:
        """Of the entries that should be followed (a watch or a cancellation), the share followed right."""
        return self.followed_right / self.to_follow if self.to_follow else None

    def add(self, outcome: Outcome) -> None:
        self.entries += 1
        setattr(self, outcome.verdict, getattr(self, outcome.verdict) + 1)
        if outcome.entry.expected.outcome in ('watch', 'cancel'):
            self.to_follow += 1
            self.followed_right += outcome.verdict == 'right'

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), 'right_rate': self.right_rate, 'followed_rate': self.followed_rate}


@dataclass
class Report:
    total: Totals
    categories: list[Totals] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def summarize(outcomes: Sequence[Outcome]) -> Report:
    total = Totals('all')
    by_category: dict[str, Totals] = collections.OrderedDict()
    for outcome in outcomes:
        total.add(outcome)
        name = outcome.entry.category or '-'
        by_category.setdefault(name, Totals(name)).add(outcome)
    return Report(total, list(by_category.values()), list(outcomes))


def _pct(value: float | None) -> str:
    return '-' if value is None else f'{100 * value:.0f} %'


def format_report(report: Report, show: Sequence[str] = ('wrong',)) -> str:
    lines = [f"{'category':16s} {'entries':>7s} {'right':>6s} {'refused':>8s} {'wrong':>6s} {'followed right':>15s}"]
    for t in [*report.categories, report.total]:
        if t is report.total:
            lines.append('-' * len(lines[0]))
        followed = f'{t.followed_right}/{t.to_follow} {_pct(t.followed_rate)}' if t.to_follow else '-'
        lines.append(f'{t.name:16s} {t.entries:7d} {t.right:6d} {t.refused:8d} {t.wrong:6d} {followed:>15s}')
    for verdict_name in show:
        chosen = [o for o in report.outcomes if o.verdict == verdict_name]
        if chosen:
            lines.append(f'\n{verdict_name} ({len(chosen)}):')
            for o in chosen:
                mode = 'say' if o.entry.spoken else 'set'
                lines.append(f'  [{mode}] {o.entry.text!r}: expected {o.entry.expected}, got {o.got}'
                             + (f' -- {_short(o.detail)}' if o.detail else ''))
    return '\n'.join(lines)


def _short(text: str, limit: int = 160) -> str:
    text = re.sub(r'\. It understands: .*$', '', text)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def report_json(report: Report, meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, 'total': report.total.as_dict(), 'categories': [t.as_dict() for t in report.categories],
            'entries': [o.as_dict() for o in report.outcomes]}


def run(list_name: str, backend: str, options: dict[str, Any], json_path: str | None) -> int:
    """omni_eval --instructions: print the figures; exit status 1 when any entry got a wrong meaning."""
    import json
    import sys

    if backend != 'cpu':
        raise ConfigError(f"--instructions scores the cpu backend's reading of instructions; backend {backend!r} "
                          'follows the words themselves (check its answers with a scenario instead)')
    from omni_ros.backends import create_backend

    checker = create_backend('cpu', options)  # not set up: reading instructions needs no model
    entries = load_list(list_name)
    report = summarize(score(entries, checker.check_instruction))
    t = report.total
    print(f'instructions {list_name}: {t.entries} entries, right {t.right} ({_pct(t.right_rate)}), refused '
          f'{t.refused}, wrong meaning {t.wrong}; of the {t.to_follow} to follow, {t.followed_right} followed '
          f'right ({_pct(t.followed_rate)})')
    print(format_report(report, show=('wrong', 'refused')))
    if json_path:
        text = json.dumps(report_json(report, {'list': str(list_name), 'backend': backend}), indent=2,
                          ensure_ascii=False)
        if json_path == '-':
            print(text)
        else:
            Path(json_path).write_text(text + '\n', encoding='utf-8')
    if t.wrong:
        print(f'{t.wrong} instruction(s) would be followed with another meaning', file=sys.stderr)
    return 1 if t.wrong else 0
