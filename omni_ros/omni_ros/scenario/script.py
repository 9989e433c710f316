"""The scripted backend's timeline: what it says, when, and for which watch.

A timeline is either its own YAML file (top-level ``lines`` and ``answers``) or the ``script`` section
of a scenario file, so a scenario and the script that matches it stay in one place::

    lines:                       # times are seconds from the start of the stream
      - at: 5.2
        watch: green             # fires only for active watches whose instruction contains this text
        say: The light just turned green.
        modality: vision         # vision | audio | audiovisual | unknown (default)
        confidence: 0.9          # 0..1, default 1
      - at: 11.0
        say: I heard a ding.     # no watch: a spontaneous comment
    answers:
      - question: floor          # case-insensitive text the question must contain
        after: 10.5              # optional: holds from this stream time on (default 0)
        say: We are on floor 16.

Plain data and parsing only (no numpy, no ROS), so the backend imports it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from omni_ros.errors import ConfigError
from omni_ros.scenario._schema import Section
from omni_ros.data import Modality

MODALITIES = tuple(m.value for m in Modality)


@dataclass(frozen=True)
class ScriptLine:
    """Something to say at ``at`` seconds into the stream; for the listed watches only, if any."""

    at: float
    say: str
    watch: tuple[str, ...] = ()  # empty: a comment, said whatever is watched
    modality: Modality = Modality.UNKNOWN
    confidence: float = 1.0

    def matches(self, instruction: str) -> bool:
        text = instruction.casefold()
        return any(word.casefold() in text for word in self.watch)


@dataclass(frozen=True)
class ScriptAnswer:
    """The reply to questions containing ``question``, valid from stream time ``after`` on."""

    question: str
    say: str
    after: float = 0.0

    def matches(self, question: str, reached: float) -> bool:
        """True if ``question`` contains this entry's text and the stream has got past ``after``."""
        return self.question.casefold() in question.casefold() and self.after < reached


@dataclass(frozen=True)
class Timeline:
    lines: tuple[ScriptLine, ...] = ()  # sorted by ``at`` (stable: file order for equal times)
    answers: tuple[ScriptAnswer, ...] = ()

    def answer(self, question: str, reached: float) -> ScriptAnswer | None:
        """Of the matching answers valid before stream time ``reached`` (a chunk's end), the one that
        became valid last (file order on ties). Lines use the same rule: ``at < reached``."""
        best: ScriptAnswer | None = None
        for candidate in self.answers:
            if candidate.matches(question, reached) and (best is None or candidate.after > best.after):
                best = candidate
        return best


def parse_timeline(data: Any, where: str) -> Timeline:
    """Timeline from a parsed YAML mapping; ``where`` (a file name, or "file: key") starts error messages."""
    root = Section(data, where)
    lines = []
    for entry in root.mappings('lines'):
        lines.append(ScriptLine(
            at=entry.number('at', minimum=0.0),
            say=entry.string('say', nonempty=True),
            watch=entry.strings('watch', ()),
            modality=Modality(entry.string('modality', Modality.UNKNOWN.value, choices=MODALITIES)),
            confidence=entry.number('confidence', 1.0, minimum=0.0, maximum=1.0),
        ))
        entry.done()
    answers = []
    for entry in root.mappings('answers'):
        answers.append(ScriptAnswer(
            question=entry.string('question', nonempty=True),
            say=entry.string('say', nonempty=True),
            after=entry.number('after', 0.0, minimum=0.0),
        ))
        entry.done()
    root.done()
    if not lines and not answers:
        raise ConfigError(f'{where}: the timeline is empty; add entries under lines: or answers:')
    return Timeline(lines=tuple(sorted(lines, key=lambda line: line.at)), answers=tuple(answers))


def load_timeline(path: str | Path) -> Timeline:
    """Timeline from a timeline file, or from the ``script`` section of a scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except OSError as exc:
        raise ConfigError(f'cannot read timeline {path}: {exc.strerror or exc}') from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path} is not valid YAML: {exc}') from exc
    if isinstance(data, dict) and 'script' in data:
        return parse_timeline(data['script'], f'{path}: script')
    return parse_timeline(data, str(path))
