"""Import stand-in for ``composition_interfaces`` (rcl_interfaces), which is not on PyPI.

launch_ros (jazzy, ``../shared/upstream/launch_ros``) imports ``composition_interfaces.srv`` when
``launch_ros.actions`` is imported, for ``LoadComposableNodes`` only. omni_ros's launch files start
plain processes (``LifecycleNode``), never composable nodes, so nothing here is ever called: this
package only lets the real launch_ros import. Using it raises. ``tools/bootstrap.sh`` puts this folder
on the test venv's path with the upstream launch sources; a ROS install has the real package.
omni_ros/test/test_launch.py checks that launch_ros uses it for composable nodes only.
"""
