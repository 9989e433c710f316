"""Service types of the stand-in (see __init__): names for launch_ros's annotations, unusable otherwise."""

from __future__ import annotations


class _Unavailable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError('composition_interfaces is an import stand-in in this test environment: '
                           'composable nodes cannot be loaded here (install ROS 2 for them)')


class LoadNode:
    Request = _Unavailable
    Response = _Unavailable


class UnloadNode:
    Request = _Unavailable
    Response = _Unavailable


class ListNodes:
    Request = _Unavailable
    Response = _Unavailable
