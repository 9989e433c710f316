"""``ros2 launch`` for the tests: ros2cli is not installable here, ros2/launch and launch_ros are.

    python launch_runner.py PACKAGE FILE [name:=value ...]   # the file in PACKAGE's share/<pkg>/launch
    python launch_runner.py PATH.launch.py [name:=value ...]

Runs the real (jazzy) launch service on the file, as ``ros2 launch`` does: one LaunchService given the
command line, an IncludeLaunchDescription of the file with the ``name:=value`` arguments, exit status
of the service. SIGINT or SIGTERM shuts the launch down (its processes get SIGINT, then SIGTERM).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resolve(argv: list[str]) -> tuple[Path, list[tuple[str, str]]]:
    if argv and argv[0].endswith('.py'):
        path, rest = Path(argv[0]), argv[1:]
    elif len(argv) >= 2:
        from ament_index_python.packages import get_package_share_directory

        path, rest = Path(get_package_share_directory(argv[0])) / 'launch' / argv[1], argv[2:]
    else:
        raise SystemExit(__doc__)
    if not path.is_file():
        raise SystemExit(f'launch_runner: no launch file {path}')
    arguments = []
    for item in rest:
        name, sep, value = item.partition(':=')
        if not sep or not name:
            raise SystemExit(f'launch_runner: argument {item!r} must look like name:=value')
        arguments.append((name, value))
    return path, arguments


def main(argv: list[str]) -> int:
    from launch import LaunchDescription, LaunchService
    from launch.actions import IncludeLaunchDescription
    from launch.launch_description_sources import AnyLaunchDescriptionSource

    path, arguments = resolve(argv)
    service = LaunchService(argv=argv, noninteractive=True)
    service.include_launch_description(LaunchDescription([
        IncludeLaunchDescription(AnyLaunchDescriptionSource(str(path)), launch_arguments=arguments)]))
    return service.run()  # handles SIGINT and SIGTERM itself


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
