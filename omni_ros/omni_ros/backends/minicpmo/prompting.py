"""System prompt composition, tag attribution and the carried summary, shared by all MiniCPM-o backends.

Duplex MiniCPM-o takes no text mid-session, so standing watches and pending questions live in the system
prompt. Each gets a short tag ([W1], [Q1]) that the model is told to say first when it alerts or answers;
the tag is how a spoken turn is attributed. Tags are stable for the life of a watch so a re-prepare
does not renumber them.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass, field
from typing import AbstractSet, Optional, Sequence

from omni_ros.data import EventKind, Question, Watch

log = logging.getLogger('omni_ros.minicpmo')

CONTEXT_PREVIOUS_MARKER = '\n\nprevious: '  # upstream prepare() default: its own carry of slid-out units
# Our carry across a new prepare() (upstream's decoder starts empty then), worded differently from upstream's
# "previous:" section so the two never read as one: upstream adds its own after sliding (utils.py:1795-1824).
SUMMARY_LABEL = 'Earlier in this conversation you said: '
VOICE_LINE = 'Speak in the voice of this audio:'
# OpenBMB's server wraps the duplex system prompt so (core/processors/unified.py:874-875); the reference
# voice's embeddings go between the two.
CHAT_PREFIX = '<|im_start|>system\n{text}\n<|audio_start|>'
CHAT_SUFFIX = '<|audio_end|><|im_end|>'

# "[W1]" as told; models also say "W1:" or "W 1," when they speak the tag, so accept those at a word start.
_TAG_RE = re.compile(r'\[\s*([WQ])\s*(\d+)\s*\]|(?<![A-Za-z0-9])([WQ])\s?(\d+)(?=[\s:,.!?]|$)')
_WORD_RE = re.compile(r"[a-z0-9']+")
_STOPWORDS = frozenset(
    'a an the me us you i it is are be to of in on at when if tell let know say please and or that this '
    'there here as for with my your me its do does once then now about whenever anything someone'.split())
_FALLBACK_CONFIDENCE_SCALE = 0.6  # untagged attribution is never as sure as a tag


@dataclass(frozen=True)
class SystemPrompt:
    """The system prompt's parts, and the plain layout (``prefix`` / ``suffix``) the llama.cpp-omni client sends.

    The transformers engine lays the parts out as upstream expects instead (``chat_layout``).
    """

    prefix: str
    suffix: str
    persona: str = ''
    instructions: tuple[str, ...] = ()  # standing-instruction and question lines, with their headers
    summary: str = ''  # recent turns carried across a new prepare()
    voice: bool = False  # a reference voice follows the text

    @property
    def text(self) -> str:
        return self.prefix + self.suffix

    def body(self) -> str:
        """Persona, instructions, carried summary and the voice line, in that order (the voice comes next)."""
        lines = [self.persona] + list(self.instructions)
        if self.summary:
            lines.append(SUMMARY_LABEL + self.summary)
        if self.voice:
            lines.append(VOICE_LINE)
        return '\n'.join(line for line in lines if line)


def chat_layout(prompt: SystemPrompt, wrap: bool) -> tuple[str, str]:
    """(prefix, suffix) for upstream's ``prepare``: wrapped as OpenBMB's server does, or the body as given.

    This upstream revision tokenizes the prefix as given (modeling_minicpmo.py:2591); a revision that adds the
    chat markers itself gets the body alone (``wrap=False``).
    """
    if not wrap:
        return prompt.body(), ''
    return CHAT_PREFIX.format(text=prompt.body()), CHAT_SUFFIX


@dataclass(frozen=True)
class Attribution:
    kind: EventKind
    text: str  # the spoken turn without its tag
    watch_id: str = ''
    question_id: str = ''
    confidence: float = 1.0
    by_tag: bool = True


def strip_tags(text: str) -> str:
    return re.sub(r'\s{2,}', ' ', _TAG_RE.sub('', text)).strip(' :,-')


def _words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOPWORDS}


def similarity(a: str, b: str) -> float:
    """Overlap coefficient of content words: 1.0 when the shorter text's words all occur in the other."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


@dataclass
class PromptBook:
    """Active watches and questions with their tags, the recent-turn summary, and the prompt built from them."""

    persona: str
    has_ref_voice: bool = False
    summary_max_chars: int = 600
    summary_turns: int = 6
    min_similarity: float = 0.25
    watches: dict[str, Watch] = field(default_factory=dict)  # tag -> watch
    questions: dict[str, Question] = field(default_factory=dict)  # tag -> question
    prompted: frozenset[str] = frozenset()  # question tags in the last composed prompt (what the model was asked)
    _next_w: int = 1
    _next_q: int = 1
    _recent: deque[tuple[float, str, str]] = field(default_factory=lambda: deque(maxlen=50))  # (stamp, label, text)

    # --- watches and questions -------------------------------------------------------------------
    def set_watches(self, watches: Sequence[Watch]) -> bool:
        """Replace the watch set; True when the prompt changes (a re-prepare is needed)."""
        wanted = {w.watch_id: w for w in watches}
        kept = {tag: w for tag, w in self.watches.items() if w.watch_id in wanted}
        changed = len(kept) != len(self.watches)
        for tag, w in kept.items():
            if wanted[w.watch_id].instruction != w.instruction:
                changed = True
            kept[tag] = wanted[w.watch_id]
        have = {w.watch_id for w in kept.values()}
        for w in watches:
            if w.watch_id not in have:
                kept[f'W{self._next_w}'] = w
                self._next_w += 1
                changed = True
        self.watches = kept
        return changed

    def add_question(self, question: Question) -> str:
        tag = f'Q{self._next_q}'
        self._next_q += 1
        self.questions[tag] = question
        return tag

    def tag_of(self, watch_id: str) -> str:
        return next((t for t, w in self.watches.items() if w.watch_id == watch_id), '')

    # --- prompt ---------------------------------------------------------------------------------
    def compose(self) -> SystemPrompt:
        self.prompted = frozenset(self.questions)
        persona = self.persona.strip()
        prefix = persona
        if self.has_ref_voice:
            prefix += '\n' + VOICE_LINE
        lines: list[str] = []
        if self.watches:
            lines.append('Standing instructions. Keep watching the video and listening. When one of these '
                         'happens, first say its tag, then tell the user briefly. Say nothing about them '
                         'otherwise.')
            lines += [f'[{tag}] {w.instruction.strip()}' for tag, w in self.watches.items()]
        if self.questions:
            lines.append('Questions to answer now from what you see and hear. Start the answer with the '
                         'question\'s tag.')
            lines += [f'[{tag}] {q.text.strip()}' for tag, q in self.questions.items()]
        suffix = ('\n' + '\n'.join(lines)) if lines else ''
        summary = self.summary()
        if summary:
            suffix += CONTEXT_PREVIOUS_MARKER + summary
        return SystemPrompt(prefix=prefix, suffix=suffix, persona=persona, instructions=tuple(lines),
                            summary=summary, voice=self.has_ref_voice)

    # --- summary carried across prepare() -------------------------------------------------------------
    def remember(self, text: str, stamp: float, label: str = '') -> None:
        text = strip_tags(text)
        if text:
            self._recent.append((stamp, label, text))

    def summary(self) -> str:
        """Most recent turns first to go when over budget: newest kept, oldest dropped."""
        if self.summary_turns <= 0 or self.summary_max_chars <= 0:
            return ''
        parts: list[str] = []
        used = 0
        for stamp, label, text in reversed(list(self._recent)[-self.summary_turns:]):
            item = f'(t={stamp:.0f}s{", " + label if label else ""}) you said: {text}'
            if used + len(item) + 2 > self.summary_max_chars:
                room = self.summary_max_chars - used - 2
                if room > 20 and not parts:
                    parts.append(item[:room - 3] + '...')
                break
            parts.append(item)
            used += len(item) + 2
        return '; '.join(reversed(parts))

    def clear_history(self) -> None:
        self._recent.clear()

    # --- attribution ----------------------------------------------------------------------------
    def attribute(self, text: str, answerable: Optional[AbstractSet[str]] = None) -> Attribution:
        """Which watch or question a finished spoken turn belongs to.

        ``answerable``: the question tags the model had been asked when the turn began (default: all open
        ones); a turn begun before a question reached the prompt is not its answer.
        """
        plain = strip_tags(text)
        open_tags = [t for t in self.questions if answerable is None or t in answerable]
        for m in _TAG_RE.finditer(text):
            letter = (m.group(1) or m.group(3)).upper()
            tag = f'{letter}{m.group(2) or m.group(4)}'
            if tag in self.watches:
                return Attribution(EventKind.ALERT, plain, watch_id=self.watches[tag].watch_id)
            if tag in open_tags:
                q = self.questions.pop(tag)
                return Attribution(EventKind.ANSWER, plain, question_id=q.question_id)
        if open_tags:
            # A question is in the prompt and the model spoke: the oldest open question is the likely topic.
            tag = open_tags[0]
            q = self.questions.pop(tag)
            log.info('spoken turn without a tag taken as the answer to %s (%s)', tag, q.question_id)
            return Attribution(EventKind.ANSWER, plain, question_id=q.question_id, confidence=0.7,
                               by_tag=False)
        best_tag, best = '', 0.0
        for tag, w in self.watches.items():
            s = similarity(plain, w.instruction)
            if s > best:
                best_tag, best = tag, s
        if best_tag and best >= self.min_similarity:
            w = self.watches[best_tag]
            conf = round(_FALLBACK_CONFIDENCE_SCALE * best, 3)
            log.info('spoken turn without a tag attributed to %s (%s) by word overlap %.2f; confidence %.2f',
                     best_tag, w.watch_id, best, conf)
            return Attribution(EventKind.ALERT, plain, watch_id=w.watch_id, confidence=conf, by_tag=False)
        return Attribution(EventKind.COMMENT, plain)
