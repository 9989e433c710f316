"""The README's ROS 2 workspace install, run as written: rosdep, colcon build, colcon test.

- rosdep: ``rosdep install --from-paths src --ignore-src -y`` for jazzy and kilted on Ubuntu 24.04, with
  ``--simulate`` (nothing is installed here) against the rosdistro snapshot in ../shared/upstream
  ($OMNI_ROSDISTRO_UPSTREAM), offline: every key of every package.xml must resolve.
- colcon: ``colcon build`` of the four packages (the venv with the Kilted wheels is the underlay, as
  /opt/ros/kilted is on a robot), and ``colcon test`` running this repository's pytest suites, a named
  subset (COLCON_SUITES; the README says so) to keep ``make test`` short, with a non-zero count.
"""

from __future__ import annotations

import stat
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest

import ros_install

pytestmark = pytest.mark.install

# colcon test in make test: these modules of each package's own suite (a plain `colcon test` runs all).
COLCON_SUITES = {
    'omni_ros': ['test/test_launch_config.py', 'test/test_mapping.py', 'test/test_rclpy_compat.py'],
    'omni_ros_bt': ['test/test_bt_cpp_xml.py', 'test/test_bt_behaviours.py'],
}


@pytest.fixture(scope='module')
def rosdep_env() -> dict[str, dict[str, str]]:
    """Per distribution: the environment of a user who ran `rosdep update`, against the snapshot."""
    snapshot = ros_install.upstream('rosdistro', 'OMNI_ROSDISTRO_UPSTREAM')
    sources = [snapshot / 'rosdep' / f'{name}.yaml' for name in ('base', 'python', 'ruby')]
    envs = {}
    for distro in ros_install.DISTROS:
        inputs = [*sources, snapshot / 'index-v4.yaml', snapshot / distro / 'distribution.yaml']
        digest = ros_install.inputs_hash(inputs, f'{snapshot} rosdep={metadata.version("rosdep")}')
        folder, fresh = ros_install.cache(f'rosdep_{distro}', digest)
        env = dict(ros_install.underlay_env(), ROS_HOME=str(folder / 'ros_home'),
                   ROSDEP_SOURCE_PATH=str(folder / 'sources.list.d'),
                   ROSDISTRO_INDEX_URL=(snapshot / 'index-v4.yaml').as_uri(), ROS_PYTHON_VERSION='3')
        # --ignore-src also skips keys of packages on AMENT_PREFIX_PATH: the venv's wheels (and the test
        # copy of audio_common_msgs) would hide the keys of rclpy & co. A user's /opt/ros is apt's anyway.
        env.pop('AMENT_PREFIX_PATH', None)
        env.pop('ROS_PACKAGE_PATH', None)
        envs[distro] = env
        if fresh:
            ros_install.TIMES.append((f'rosdep update {distro} (cached: snapshot unchanged)', 0.0))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / 'sources.list.d').mkdir(exist_ok=True)
        (folder / 'sources.list.d' / '20-snapshot.list').write_text(
            ''.join(f'yaml {path.as_uri()}\n' for path in sources))
        with ros_install.timed(f'rosdep update --rosdistro {distro} (snapshot)'):
            ros_install.run(['rosdep', 'update', '--rosdistro', distro], env=env, cwd=folder,
                            log=folder / 'update.log', timeout=300)
        ros_install.mark_cached(folder, digest)
    return envs


@pytest.fixture(scope='module')
def rosdep_ws() -> Path:
    ws = ros_install.CHECKS / 'rosdep_ws'
    (ws / 'src').mkdir(parents=True, exist_ok=True)
    ros_install.ignore_build_folder()
    link = ws / 'src' / 'omni_ros'
    if not link.is_symlink():
        link.symlink_to(ros_install.REPO, target_is_directory=True)
    return ws


@pytest.mark.parametrize('distro', ros_install.DISTROS)
def test_rosdep_install_resolves_every_key(rosdep_env, rosdep_ws, distro: str, tmp_path: Path) -> None:
    # The README's command; --simulate --reinstall prints every resolved package, also those this
    # machine happens to have (the venv's wheels, Debian's python3-yaml).
    cmd = ['rosdep', 'install', '--from-paths', 'src', '--ignore-src', '-y',
           '--simulate', '--reinstall', '--rosdistro', distro, '--os', ros_install.UBUNTU]
    with ros_install.timed(f'rosdep install --simulate {distro} {ros_install.UBUNTU}'):
        done = ros_install.run(cmd, env=rosdep_env[distro], cwd=rosdep_ws, log=tmp_path / 'rosdep.log', timeout=300,
                               check=False)
    out = (tmp_path / 'rosdep.log').read_text()
    assert done.returncode == 0 and 'Cannot locate rosdep definition' not in out, out
    # Keys of each kind resolved to what a user's rosdep installs: distro packages, apt and pip keys.
    for expected in (f'ros-{distro}-rclpy', f'ros-{distro}-py-trees', f'ros-{distro}-audio-common-msgs',
                     f'ros-{distro}-launch-ros', f'ros-{distro}-rosidl-default-generators', 'python3-yaml',
                     'portaudio19-dev', 'flite', 'rosbags', 'sounddevice'):
        assert expected in out, f'{expected} missing from:\n{out}'


def test_colcon_build_installs_every_package(colcon_ws) -> None:
    install = colcon_ws.install
    for package in ros_install.PACKAGES:
        assert (install / package / 'share' / 'ament_index' / 'resource_index' / 'packages' / package).is_file()
        assert (install / package / 'share' / package / 'package.xml').is_file()
    share = install / 'omni_ros' / 'share' / 'omni_ros'
    for name in ('launch/omni.launch.py', 'config/omni_node.yaml', 'config/fastdds_large_frames.xml',
                 'requirements/cpu-backend.txt'):
        assert (share / name).is_file(), name
    for name in ('omni_node', 'omni_replay', 'omni_mic', 'omni_speaker', 'omni_eval'):
        assert (install / 'omni_ros' / 'lib' / 'omni_ros' / name).stat().st_mode & stat.S_IXUSR, name
    assert (install / 'omni_ros_bt' / 'lib' / 'omni_ros_bt' / 'omni_bt_example').is_file()
    assert (install / 'omni_ros_bt' / 'share' / 'omni_ros_bt' / 'bt_cpp' / 'crossing_demo.xml').is_file()
    assert (install / 'omni_ros_bringup' / 'share' / 'omni_ros_bringup' / 'launch' / 'robot.launch.py').is_file()
    # A shell that sourced install/setup.bash imports the packages from the install space.
    found = ros_install.run(
        ['python', '-c', 'import omni_ros, omni_ros_bt, omni_ros_interfaces.msg as m; '
                         'print(omni_ros.__file__, omni_ros_bt.__file__, m.__file__)'],
        env=colcon_ws.env, cwd=colcon_ws.root, log=colcon_ws.root / 'import.log', timeout=60)
    assert found.returncode == 0
    paths = (colcon_ws.root / 'import.log').read_text().split()
    assert len(paths) == 3 and all(Path(p).resolve().is_relative_to(install.resolve()) for p in paths), paths


@pytest.mark.parametrize('package', sorted(COLCON_SUITES))
def test_colcon_test_runs_the_packages_pytest_suites(colcon_ws, package: str) -> None:
    cmd = ['colcon', 'test', '--packages-select', package, '--pytest-args', *COLCON_SUITES[package]]
    with ros_install.timed(f'colcon test {package} ({len(COLCON_SUITES[package])} modules)'):
        ros_install.run(cmd, env=colcon_ws.env, cwd=colcon_ws.root, log=colcon_ws.root / f'colcon-test-{package}.log',
                        timeout=600)
    result = colcon_ws.root / 'build' / package / 'pytest.xml'
    suite = ET.parse(result).getroot()
    suite = suite if suite.tag == 'testsuite' else suite.find('testsuite')
    counts = {k: int(suite.get(k, 0)) for k in ('tests', 'failures', 'errors', 'skipped')}
    modules = {case.get('classname', '').rsplit('.', 1)[-1] for case in suite.iter('testcase')}
    assert counts['tests'] > 0 and counts['failures'] == counts['errors'] == 0, (counts, result.read_text()[-3000:])
    assert modules == {Path(m).stem for m in COLCON_SUITES[package]}, modules
