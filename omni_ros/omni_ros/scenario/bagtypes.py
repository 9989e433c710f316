"""Message types for reading and writing bags with rosbags, including omni_ros_interfaces.

rosbags ships the standard ROS 2 types but not ours, so they are registered from the ``.msg`` text of
the *installed* omni_ros_interfaces: that is the definition the running nodes were built from, so the
bytes we write deserialize with rclpy and the type hashes in the bag match the installed ones.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_ros.errors import ConfigError

if TYPE_CHECKING:  # rosbags is imported lazily: only bag tools need it
    from rosbags.typesys import Stores
    from rosbags.typesys.store import Typestore

INTERFACE_PACKAGE = 'omni_ros_interfaces'
# Source tree fallback when running from a checkout whose interfaces are not installed.
_SOURCE_MSG_DIR = Path(__file__).resolve().parents[3] / INTERFACE_PACKAGE / 'msg'


def _share_dir_from_ament() -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(INTERFACE_PACKAGE))
    except Exception:  # noqa: BLE001 - no AMENT_PREFIX_PATH or package not indexed: try the next way
        return None


def _share_dir_from_module() -> Path | None:
    """<prefix>/share/omni_ros_interfaces from the generated Python module's location.

    The module lives in <prefix>/lib/pythonX.Y/site-packages (pip, plain CMake) or
    <prefix>/local/lib/pythonX.Y/dist-packages (colcon on Debian-based systems), so walk up until a
    share directory holding the package appears.
    """
    try:
        import omni_ros_interfaces
    except ImportError:
        return None
    module_file = getattr(omni_ros_interfaces, '__file__', None)
    if not module_file:
        return None
    for parent in Path(module_file).resolve().parents:
        candidate = parent / 'share' / INTERFACE_PACKAGE
        if (candidate / 'msg').is_dir():
            return candidate
    return None


def interface_msg_dir() -> Path:
    """Directory holding omni_ros_interfaces' ``.msg`` files (installed first, then the source tree)."""
    for share in (_share_dir_from_ament(), _share_dir_from_module()):
        if share is not None and (share / 'msg' / 'AudioChunk.msg').is_file():
            return share / 'msg'
    if (_SOURCE_MSG_DIR / 'AudioChunk.msg').is_file():
        return _SOURCE_MSG_DIR
    raise ConfigError(
        f'cannot find {INTERFACE_PACKAGE}/msg/AudioChunk.msg: build and install {INTERFACE_PACKAGE} '
        '(tools/bootstrap.sh, or colcon build and source install/setup.bash)')


def _store_for_running_distro() -> Stores:
    from rosbags.typesys import Stores

    # Standard types differ little between distros, but prefer the one we run on when rosbags knows it.
    distro = os.environ.get('ROS_DISTRO', '').lower()
    try:
        return Stores(f'ros2_{distro}')
    except ValueError:
        return Stores.ROS2_KILTED


@functools.lru_cache(maxsize=None)
def typestore() -> Typestore:
    """A rosbags typestore with the standard ROS 2 types plus every omni_ros_interfaces message."""
    from rosbags.typesys import get_types_from_msg, get_typestore

    store = get_typestore(_store_for_running_distro())
    msg_dir = interface_msg_dir()
    types: dict[str, Any] = {}
    for path in sorted(msg_dir.glob('*.msg')):
        name = f'{INTERFACE_PACKAGE}/msg/{path.stem}'
        try:
            types.update(get_types_from_msg(path.read_text(encoding='utf-8'), name))
        except Exception as exc:  # noqa: BLE001 - rosbags raises several parser errors
            raise ConfigError(f'cannot parse {path} as a ROS message definition: {exc}') from exc
    store.register(types)
    return store


AUDIO_CHUNK = f'{INTERFACE_PACKAGE}/msg/AudioChunk'
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
CLOCK = 'rosgraph_msgs/msg/Clock'

__all__ = ['AUDIO_CHUNK', 'CLOCK', 'COMPRESSED_IMAGE', 'IMAGE', 'interface_msg_dir', 'typestore']
