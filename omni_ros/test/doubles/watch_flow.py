"""The node-level watch test shared by the MiniCPM-o backends (transformers double, llama.cpp-omni server).

omni_node runs in its own process on a MiniCPM-o backend whose "model" is scripted by SCRIPT; this
process is the action client while the replay tool plays the bundled crossing scenario. What the model
saw (every system prompt it was prepared with, what it said, contract violations) comes from a
ModelView: the double's JSONL trace, or the loopback server's own records.

The story, each step checked where the user sees it (action feedback and result, `events`,
`transcript`, `speech`) and where the model sees it (the system prompts). The scripted model does not
look or listen: SCRIPT tells it when to speak, relative to the prompt it was last prepared with.
  1. Two continuous watches are set through set_watch: "ding" first, then "green light". The model is
     prepared with a prompt that lists both, each with its own tag.
  2. Six units into that prompt (the scene's light turns green at 5.0 s) the model says the green
     watch's tag and an alert over two units; the node attributes it to the green watch's goal.
  3. The green goal is canceled: the model is prepared again without it; the ding watch keeps its tag
     and the earlier alert is carried in the "previous:" summary.
  4. Two units into that prompt the model alerts with the ding tag; the event goes to the ding goal.
  5. The ding goal is canceled: the model is prepared again with no watch at all.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from support import future_result, wait_for

from omni_ros import scenario
from omni_ros.ros import mapping
from omni_ros.tools import processes

RATE = 2.0  # replay speed
GREEN = 'tell me when the traffic light turns green'
DING = 'tell me when you hear a ding'
GREEN_TEXT = 'The traffic light is green now.'
DING_TEXT = 'That was the ding.'
GREEN_AT_UNIT = 5  # the 6th unit after the prompt with the watch: bag time 5-6 s, the light turns green at 5.0
SCRIPT = {'rules': [
    # Said (over two units) once a prompt holds the green-light watch, with that watch's tag.
    {'tag_of': 'traffic light turns green', 'at_unit': GREEN_AT_UNIT,
     'say': ['{tag} The traffic light', ' is green now.']},
    # Said once the prompt has the ding watch but no longer the green one (after that goal's cancel).
    {'tag_of': 'hear a ding', 'prompt_lacks': GREEN, 'at_unit': 2, 'say': ['{tag} ' + DING_TEXT]},
]}
_WATCH_LINE = re.compile(r'^\[(W\d+)\] (.*)$', re.M)


class ModelView(Protocol):
    """What the model in the node's process was given and said."""

    def prompts(self) -> list[str]:
        """Every system prompt it was prepared with, oldest first (warm-up and session start included)."""

    def said(self) -> list[str]:
        """The text of every unit in which it spoke, oldest first."""

    def violations(self) -> list[str]:
        """API contract violations it recorded (must stay empty)."""


def watch_tags(prompt: str) -> dict[str, str]:
    """instruction -> tag for every watch line of a system prompt."""
    return {text: tag for tag, text in _WATCH_LINE.findall(prompt)}


@dataclass
class Outputs:
    events: list[Any] = field(default_factory=list)
    transcripts: list[Any] = field(default_factory=list)
    speech: list[Any] = field(default_factory=list)


def node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


def start_node(env: dict[str, str], log_dir: Path, backend: str, backend_params: dict[str, Any],
               crossing: scenario.Scenario) -> processes.RosProcess:
    params = {'use_sim_time': True, 'backend': backend, **{f'{backend}.{k}': v for k, v in backend_params.items()}}
    return processes.start_node(env, log_dir, params=params,
                                remaps={'image': crossing.camera.topic, 'audio': crossing.audio.topic})


def _send_when_active(client: Any, instruction: str, feedback: Callable, node: processes.RosProcess,
                      timeout: float) -> Any:
    from omni_ros_interfaces.action import SetWatch

    goal = SetWatch.Goal(instruction=instruction, continuous=True)
    deadline = time.monotonic() + timeout
    # With autostart the node configures (loads the model) before it spins: a goal sent meanwhile is
    # answered once it spins, so wait for the answer as long as for activation. A goal that reaches
    # the node while it is not active yet is rejected: send it again.
    while True:
        assert node.running(), f'omni_node exited:\n{node.output()}'
        future = client.send_goal_async(goal, feedback_callback=feedback)
        handle = wait_for(lambda f=future: f.done() and f.result(), max(10.0, deadline - time.monotonic()),
                          f'the goal response for {instruction!r} (is omni_node up?)')
        if handle.accepted:
            return handle
        assert time.monotonic() < deadline, f'omni_node never accepted a goal (not active?):\n{node.output()}'
        time.sleep(0.2)


def _prompt_index(view: ModelView, since: int, accept: Callable[[str], bool]) -> int | None:
    for i, prompt in enumerate(view.prompts()[since:], since):
        if accept(prompt):
            return i
    return None


def run(ros_client: Any, node: processes.RosProcess, view: ModelView, log_dir: Path,
        crossing: scenario.Scenario, bag: Path, *, activate_timeout: float = 45.0) -> None:
    """The whole story above; on a failure, prints what the model saw and the node's log."""
    try:
        _run(ros_client, node, view, log_dir, crossing, bag, activate_timeout)
    except BaseException:  # AssertionError and pytest's Failed (wait_for) alike
        print('--- system prompts, oldest first:', *view.prompts(), sep='\n')
        print('--- model said:', view.said())
        print('--- violations:', view.violations())
        print('--- omni_node log:', node.output(), sep='\n')
        raise


def _run(ros_client: Any, node: processes.RosProcess, view: ModelView, log_dir: Path,
         crossing: scenario.Scenario, bag: Path, activate_timeout: float) -> None:
    from rclpy.action import ActionClient

    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.msg import AudioChunk, ProactiveEvent
    from omni_ros_interfaces.msg import Transcript as TranscriptMsg
    from omni_ros_interfaces.srv import ListWatches

    out = Outputs()
    ros_client.create_subscription(ProactiveEvent, 'events', out.events.append, 50)
    ros_client.create_subscription(TranscriptMsg, 'transcript', out.transcripts.append, 50)
    ros_client.create_subscription(AudioChunk, 'speech', out.speech.append, 50)
    client = ActionClient(ros_client, SetWatch, 'set_watch')
    assert client.wait_for_server(timeout_sec=30), 'no set_watch action server'
    lister = ros_client.create_client(ListWatches, 'list_watches')
    assert lister.wait_for_service(timeout_sec=10), 'no list_watches service'

    # 1. Both watches through the action, before any input: the first prompt fed with input holds both.
    ding_fb: list = []
    green_fb: list = []
    accepted: dict[str, str] = {}  # watch id -> the meaning sent at acceptance

    def alerts_into(alerts: list) -> Callable:
        def take(msg: Any) -> None:
            if msg.feedback.trigger_count:
                alerts.append(msg)
            else:
                accepted[msg.feedback.watch_id] = msg.feedback.interpretation
        return take

    ding = _send_when_active(client, DING, alerts_into(ding_fb), node, activate_timeout)
    green = _send_when_active(client, GREEN, alerts_into(green_fb), node, 10)
    ding_id, green_id = (bytes(h.goal_id.uuid).hex() for h in (ding, green))
    # The model reads the words themselves: the meaning it follows is the instruction.
    wait_for(lambda: len(accepted) == 2, 10, 'the acceptance feedback of both watches')
    assert accepted == {ding_id: DING, green_id: GREEN}

    def listed() -> set[str]:
        response = future_result(lister.call_async(ListWatches.Request()))
        return {w.watch_id for w in response.watches} if response is not None else set()

    wait_for(lambda: {ding_id, green_id} <= listed(), 10, 'both watches in list_watches')
    before = len(view.prompts())  # warm-up and session start: no input has been fed yet
    assert before >= 1 and all(not watch_tags(p) for p in view.prompts()), 'a watch before any goal'

    player = processes.start_replay(node_env(), log_dir, bag, rate=RATE,
                                    extra=['--wait-for-subscribers', '20', '--tail', '4'])
    try:
        both = wait_for(lambda: _prompt_index(view, before, lambda p: {DING, GREEN} <= set(watch_tags(p))), 20,
                        'a prepare() with both watches in the system prompt')
        tags = watch_tags(view.prompts()[both])
        assert tags[DING] != tags[GREEN], 'two watches share a tag'
        assert 'Standing instructions' in view.prompts()[both] and 'first say its tag' in view.prompts()[both]

        # 2. The tagged alert reaches the green goal's feedback, not the ding goal's.
        wait_for(lambda: green_fb, 25, 'the green alert as feedback')
        assert f'[{tags[GREEN]}] The traffic light' in view.said(), 'the double did not say the tag'
        fb = green_fb[0].feedback
        assert fb.watch_id == green_id and fb.trigger_count == 1
        alert = mapping.msg_to_event(fb.event)
        assert (alert.kind.name, alert.watch_id, alert.text, alert.confidence) == (
            'ALERT', green_id, GREEN_TEXT, 1.0), alert  # confidence 1.0: attributed by its tag
        unit_start = alert.stamp - crossing.start_time
        assert GREEN_AT_UNIT - 0.1 <= unit_start <= GREEN_AT_UNIT + 2.1, f'alert stamped {unit_start:.2f} s in'
        assert ding_fb == [], 'the green alert reached the ding goal'

        # 3. Cancel: re-prepared without the green watch, ding keeps its tag, the alert carried as summary.
        future_result(green.cancel_goal_async())
        res = wait_for(lambda: future_result(green.get_result_async()), 10, 'the canceled green result').result
        assert res.code == SetWatch.Result.CODE_CANCELED and res.watch_id == green_id
        assert [mapping.msg_to_event(e) for e in res.events] == [alert]
        after = wait_for(lambda: _prompt_index(view, both + 1, lambda p: GREEN not in p), 15,
                         'a prepare() without the canceled watch')
        prompt = view.prompts()[after]
        assert watch_tags(prompt) == {DING: tags[DING]}, f'watches after cancel: {prompt!r}'
        assert '\n\nprevious: ' in prompt and GREEN_TEXT in prompt, 'no carried summary of the alert'
        assert all(GREEN in p for p in view.prompts()[both:after]), 'a prompt without green before the cancel'

        # 4. The remaining watch still alerts, by its unchanged tag.
        wait_for(lambda: ding_fb, 15, 'the ding alert as feedback')
        ding_alert = mapping.msg_to_event(ding_fb[0].feedback.event)
        assert (ding_alert.watch_id, ding_alert.text, ding_alert.confidence) == (ding_id, DING_TEXT, 1.0)
        assert f'[{tags[DING]}] {DING_TEXT}' in view.said()
        assert len(green_fb) == 1

        # 5. Cancel the last watch: re-prepared with no watch at all.
        future_result(ding.cancel_goal_async())
        res = wait_for(lambda: future_result(ding.get_result_async()), 10, 'the canceled ding result').result
        assert res.code == SetWatch.Result.CODE_CANCELED
        assert [mapping.msg_to_event(e) for e in res.events] == [ding_alert]
        wait_for(lambda: _prompt_index(view, after + 1, lambda p: not watch_tags(p) and DING not in p), 15,
                 'a prepare() without any watch after the last cancel')
    finally:
        player.stop(timeout=5.0)  # the rest of the bag is not needed

    # Both alerts on the events topic with their goals' watch ids; the spoken turns on transcript.
    def published() -> list[tuple[str, str]]:
        return [(m.watch_id, m.text) for m in out.events if m.kind == ProactiveEvent.KIND_ALERT]

    wait_for(lambda: len(published()) >= 2, 5, 'both alerts on the events topic')
    assert published() == [(green_id, GREEN_TEXT), (ding_id, DING_TEXT)], published()
    finals = [m.text for m in out.transcripts if m.final and m.speaker == TranscriptMsg.SPEAKER_ASSISTANT]
    assert finals[:2] == [GREEN_TEXT, DING_TEXT], finals
    # The model's 24 kHz speech, one second per speaking unit (two for the green alert, one for the ding),
    # published in short blocks stamped with their playback time, which comes after the unit that said it.
    wait_for(lambda: sum(len(m.data) for m in out.speech) >= 3 * 24000 * 2, 10,
             'the alerts\' speech on the speech topic')
    spoken = [mapping.msg_to_speech(m) for m in out.speech]
    assert {s.sample_rate for s in spoken} == {24000} and sum(s.samples.size for s in spoken) == 3 * 24000
    assert all(0.08 <= s.samples.size / 24000 <= 0.24 for s in spoken), [s.samples.size for s in spoken]
    turns = sorted({s.turn_id for s in spoken})
    assert len(turns) == 2, turns
    green_blocks = [s for s in spoken if s.turn_id == turns[0]]
    ding_blocks = [s for s in spoken if s.turn_id == turns[1]]
    assert sum(s.samples.size for s in green_blocks) == 2 * 24000
    assert green_blocks[0].stamp > alert.stamp and ding_blocks[0].stamp > ding_alert.stamp
    assert view.violations() == [], 'the model recorded API violations'
    assert 'failed on a unit' not in node.output(), 'the backend failed on a unit'
