"""The BehaviorTree.CPP tree and its documented ports against the action and message definitions.

Nothing here can compile C++; instead every port's declared field (``goal.x``, ``result.x``, ``event.x``)
must exist in SetWatch.action / Ask.action / ProactiveEvent.msg, the tree may only use declared ports,
the docs' port tables and C++ sketches must name the same ports as the XML model, and every guard must
listen to its own watch's alerts topic (test_bt_cpp_alerts.py runs that mapping against omni_node).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1]
XML = PKG / 'bt_cpp' / 'crossing_demo.xml'
DOC = PKG / 'docs' / 'behaviortree_cpp.md'
CUSTOM = ('WaitForWatch', 'Ask', 'EventGuard')
# Ports of the BehaviorTree.ROS2 base classes, not fields of the interfaces.
BASIC_PORTS = {'WaitForWatch': 'action_name', 'Ask': 'action_name', 'EventGuard': 'topic_name'}


def interface_file(kind: str, name: str) -> Path:
    """The definition in this repository, else the installed one (colcon workspace / venv)."""
    local = PKG.parent / 'omni_ros_interfaces' / kind / name
    if local.is_file():
        return local
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory('omni_ros_interfaces')) / kind / name


def parse_sections(path: Path) -> list[dict[str, object]]:
    """Sections of a .msg/.srv/.action file: {'fields': {name: type}, 'constants': {name: value}}."""
    sections: list[dict[str, object]] = [{'fields': {}, 'constants': {}}]
    for raw in path.read_text().splitlines():
        line = raw.split('#', 1)[0].strip()
        if line == '---':
            sections.append({'fields': {}, 'constants': {}})
            continue
        if not line:
            continue
        if '=' in line:
            typ, rest = line.split(None, 1)
            name, value = (s.strip() for s in rest.split('=', 1))
            sections[-1]['constants'][name] = value
        else:
            typ, name = line.split()[:2]
            sections[-1]['fields'][name] = typ
    return sections


@pytest.fixture(scope='module')
def interfaces() -> dict[str, dict[str, dict[str, object]]]:
    """'SetWatch' -> {'goal', 'result', 'feedback'} sections; 'ProactiveEvent' -> {'event'}."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    for action in ('SetWatch', 'Ask'):
        goal, result, feedback = parse_sections(interface_file('action', f'{action}.action'))
        out[action] = {'goal': goal, 'result': result, 'feedback': feedback}
    (event,) = parse_sections(interface_file('msg', 'ProactiveEvent.msg'))
    out['EventGuard'] = {'event': event}
    return out


@pytest.fixture(scope='module')
def root() -> ET.Element:
    return ET.parse(XML).getroot()


def model_ports(root: ET.Element) -> dict[str, dict[str, ET.Element]]:
    model = root.find('TreeNodesModel')
    assert model is not None, 'crossing_demo.xml needs a TreeNodesModel (Groot2 and this test read it)'
    out: dict[str, dict[str, ET.Element]] = {}
    for node in model:
        out[node.get('ID')] = {p.get('name'): p for p in node if p.tag in ('input_port', 'output_port')}
    return out


def test_xml_is_a_btcpp4_tree_with_its_main_tree(root: ET.Element) -> None:
    assert root.tag == 'root' and root.get('BTCPP_format') == '4'
    ids = [t.get('ID') for t in root.findall('BehaviorTree')]
    assert root.get('main_tree_to_execute') in ids


def test_every_model_port_names_an_existing_field(root: ET.Element, interfaces) -> None:
    ports = model_ports(root)
    assert set(ports) == set(CUSTOM)
    kinds = {'WaitForWatch': 'SetWatch', 'Ask': 'Ask', 'EventGuard': 'EventGuard'}
    for node_id, node_ports in ports.items():
        sections = interfaces[kinds[node_id]]
        for name, port in node_ports.items():
            text = (port.text or '').strip()
            where, _, rest = text.partition(':')
            if where == 'client':
                continue
            section, _, field = where.partition('.')
            assert section in sections, f'{node_id}.{name}: "{where}" is not goal./result./event. of the interface'
            fields = sections[section]['fields']
            assert field in fields, f'{node_id}.{name} maps to {where}, which {kinds[node_id]} does not have'
            # Codes and kinds named in the description must be constants of that interface.
            constants = {c for s in sections.values() for c in s['constants']}
            for constant in re.findall(r'\b(?:CODE|KIND)_[A-Z_]+\b', rest):
                assert constant in constants, f'{node_id}.{name} names {constant}, not in {kinds[node_id]}'
        assert BASIC_PORTS[node_id] in node_ports


def test_goal_fields_all_have_ports_except_the_fixed_one(root: ET.Element, interfaces) -> None:
    ports = model_ports(root)
    for node_id, action in (('WaitForWatch', 'SetWatch'), ('Ask', 'Ask')):
        mapped = {(p.text or '').split(':')[0] for p in ports[node_id].values()}
        goal_fields = set(interfaces[action]['goal']['fields'])
        # WaitForWatch is one-shot by design: `continuous` is always false, documented in the docs.
        fixed = {'continuous'} if node_id == 'WaitForWatch' else set()
        assert {f'goal.{f}' for f in goal_fields - fixed} <= mapped, f'{node_id} misses goal fields'
    assert 'goal.continuous = false;' in DOC.read_text(), 'the C++ sketch must set continuous = false'


def test_tree_uses_only_declared_ports(root: ET.Element) -> None:
    ports = model_ports(root)
    used = 0
    for tree in root.findall('BehaviorTree'):
        for element in tree.iter():
            if element.tag not in CUSTOM:
                continue
            used += 1
            extra = set(element.attrib) - set(ports[element.tag]) - {'name'}
            assert not extra, f'{element.tag} "{element.get("name")}" uses undeclared ports {sorted(extra)}'
            required = {'WaitForWatch': 'instruction', 'Ask': 'question', 'EventGuard': 'topic_name'}[element.tag]
            assert element.get(required), f'{element.tag} "{element.get("name")}" has no {required}'
    assert used >= 4


def test_kind_port_values_are_proactive_event_kinds(root: ET.Element, interfaces) -> None:
    kinds = {int(v) for k, v in interfaces['EventGuard']['event']['constants'].items() if k.startswith('KIND_')}
    for guard in root.iter('EventGuard'):
        assert int(guard.get('kind', '-1')) in kinds | {-1}


def test_xml_matches_the_py_trees_example() -> None:
    """Same instructions, question and shape as omni_ros_bt.example_tree, so the two stay equivalent."""
    from omni_ros_bt import example_tree

    root = ET.parse(XML).getroot()
    instructions = [e.get('instruction') for e in root.iter('WaitForWatch')]
    assert instructions == [example_tree.GREEN_INSTRUCTION, example_tree.FLOOR_INSTRUCTION]
    assert [e.get('question') for e in root.iter('Ask')] == [example_tree.SIGN_QUESTION]
    py_root = example_tree.create_tree('/omni')
    xml_names = [e.get('name') for e in root.iter() if e.get('name')]
    py_names = [b.name for b in py_root.iterate()]
    for name in ('wait_for_green', 'wait_for_floor_16', 'read_the_sign', 'standing_alert', 'crossing_errand',
                 'respond_to_standing_alert'):
        assert name in xml_names and name in py_names, name
    for guard in root.iter('EventGuard'):
        assert guard.get('topic_name') == '/omni/alerts/standing_0' and guard.get('watch_id') == 'standing-0'
    for wait in root.iter('WaitForWatch'):
        assert wait.get('action_name') == '/omni/set_watch'


def test_docs_table_and_sketch_name_the_model_ports(root: ET.Element, interfaces) -> None:
    doc = DOC.read_text()
    ports = model_ports(root)['WaitForWatch']
    section = doc.split('## `WaitForWatch`', 1)[1].split('\n## ', 1)[0]
    table = set(re.findall(r'^\| `([a-z_]+)` \| (?:in|out) \|', section, re.M))
    assert table == set(ports), f'docs table {sorted(table)} != XML ports {sorted(ports)}'
    sketch = set(re.findall(r'(?:Input|Output)Port<[^>]+>\("([a-z_]+)"', section))
    assert sketch | {'action_name'} == set(ports), 'the C++ sketch declares other ports than the XML'
    directions = {name: 'in' if p.tag == 'input_port' else 'out' for name, p in ports.items()}
    for name, direction in re.findall(r'^\| `([a-z_]+)` \| (in|out) \|', section, re.M):
        assert directions[name] == direction, f'{name} is {directions[name]} in the XML, {direction} in the docs'
    # Every SetWatch field the docs mention exists; every result code is a real constant.
    for section_name, field in re.findall(r'`(goal|result)\.([a-z_]+)`', section):
        assert field in interfaces['SetWatch'][section_name]['fields'], f'docs mention {section_name}.{field}'
    for constant in re.findall(r'\bCODE_[A-Z_]+\b', section):
        assert constant in interfaces['SetWatch']['result']['constants'], f'docs mention {constant}'
    # The error codes named are BehaviorTree.ROS2's ActionNodeErrorCode values.
    known = {'SERVER_UNREACHABLE', 'SEND_GOAL_TIMEOUT', 'GOAL_REJECTED_BY_SERVER', 'ACTION_ABORTED',
             'ACTION_CANCELLED', 'INVALID_GOAL'}
    named = set(re.findall(r'onFailure\(([A-Z_]+)\)', section))
    assert named and named <= known
    assert {'GOAL_REJECTED_BY_SERVER', 'ACTION_ABORTED', 'SERVER_UNREACHABLE'} <= named


def test_python_error_codes_cover_the_cpp_ones() -> None:
    """py_trees and BT.CPP users read the same failure names."""
    from omni_ros_bt import ActionError

    cpp = {'SERVER_UNREACHABLE', 'SEND_GOAL_TIMEOUT', 'GOAL_REJECTED_BY_SERVER', 'ACTION_ABORTED',
           'ACTION_CANCELLED', 'INVALID_GOAL'}
    assert cpp <= {e.value for e in ActionError}


def test_generated_interface_agrees_with_the_definition_parsed_here(interfaces) -> None:
    """Guards the parser above: the installed Python class has the same goal and result fields."""
    from omni_ros_interfaces.action import SetWatch

    assert set(SetWatch.Goal.get_fields_and_field_types()) == set(interfaces['SetWatch']['goal']['fields'])
    assert set(SetWatch.Result.get_fields_and_field_types()) == set(interfaces['SetWatch']['result']['fields'])


def test_every_guard_listens_to_its_own_watchs_alerts_topic(root: ET.Element) -> None:
    """RosTopicSubNode keeps one message: a guard on a topic shared with other events can miss its alert,
    so each guard with a watch_id subscribes to the topic omni_node publishes that watch's alerts on."""
    from omni_ros.ros.alerts import alert_topic

    guards = list(root.iter('EventGuard'))
    assert guards
    for guard in guards:
        watch_id = guard.get('watch_id')
        assert watch_id, f'EventGuard "{guard.get("name")}" has no watch_id: it would take any event'
        assert guard.get('topic_name').rsplit('/', 2)[-2:] == alert_topic(watch_id).split('/'), guard.attrib
        assert int(guard.get('kind', '0')) == 0  # those topics carry alerts only


def test_docs_event_guard_table_and_sketch_name_the_model_ports(root: ET.Element, interfaces) -> None:
    doc = DOC.read_text()
    ports = model_ports(root)['EventGuard']
    section = doc.split('## `EventGuard`', 1)[1].split('\n## ', 1)[0]
    table = re.findall(r'^\| `([a-z_]+)` \| (in|out) \|', section, re.M)
    assert {name for name, _ in table} == set(ports)
    for name, direction in table:
        assert (ports[name].tag == 'input_port') == (direction == 'in'), name
    sketch = set(re.findall(r'(?:Input|Output)Port<[^>]+>\("([a-z_]+)"', section))
    assert sketch | {'topic_name'} == set(ports), 'the C++ sketch declares other ports than the XML'
    fields = interfaces['EventGuard']['event']['fields']
    for field in re.findall(r'`event\.([a-z_]+)`', section) + re.findall(r'last_msg->([a-z_]+)', section):
        assert field in fields, f'docs mention event.{field}, which ProactiveEvent does not have'
    assert '/omni/alerts/standing_0' in section and 'latchLastMessage' in section
