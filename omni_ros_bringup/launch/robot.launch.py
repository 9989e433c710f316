"""Add omni_node to a robot's bring-up: camera and microphone remapped, standing watches loaded at start.

Includes omni_ros's own launch file (one definition of the node), so only the robot-specific parts live
here. From your robot's launch file:

    IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('omni_ros_bringup'), 'launch', 'robot.launch.py'])),
        launch_arguments={'camera_topic': '/front_camera/image_raw', 'image_transport': 'compressed'}.items())

or on the command line:

    ros2 launch omni_ros_bringup robot.launch.py camera_topic:=/camera/image_raw image_transport:=compressed

omni_node then lives in /omni (namespace argument): actions /omni/set_watch and /omni/ask, service
/omni/list_watches, topics /omni/events, /omni/transcript, /omni/speech, /omni/state.

QoS: omni_node subscribes to the camera and microphone with the sensor-data profile (best effort, small
depth), which matches drivers publishing best effort or reliable; it never slows a driver down. Frames
that arrive late are dropped, not queued. For large raw images use image_transport:=compressed, or apply
omni_ros's config/fastdds_large_frames.xml to every process of the robot (FASTDDS_DEFAULT_PROFILES_FILE
in the robot's environment); nothing here sets DDS transports for one node.

Parameters: params_file has the last word; the image_transport, use_camera, use_microphone, backend and
use_sim_time arguments apply where it does not set them. Arguments and settings stay inside this file's
scoped group, so an unscoped include leaves the parent launch as it was.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import SetParameter
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    arguments = [
        DeclareLaunchArgument('namespace', default_value='omni',
                              description="omni_node's namespace; behaviour trees use <namespace>/set_watch"),
        DeclareLaunchArgument('camera_topic', default_value='/camera/image_raw',
                              description='sensor_msgs/Image topic of the camera driver; with '
                                          'image_transport:=compressed, <camera_topic>/compressed is used'),
        DeclareLaunchArgument('image_transport', default_value='raw', choices=['raw', 'compressed'],
                              description='raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage '
                                          '(jpeg/png, e.g. from image_transport republish or the driver)'),
        DeclareLaunchArgument('microphone_topic', default_value='/microphone/audio',
                              description='omni_ros_interfaces/AudioChunk topic of the microphone (S16LE or '
                                          'F32LE PCM); drivers publishing another type need a small adapter'),
        DeclareLaunchArgument('params_file',
                              default_value=PathJoinSubstitution(
                                  [FindPackageShare('omni_ros_bringup'), 'config', 'omni_robot.yaml']),
                              description='omni_node parameters, including the standing watches'),
        DeclareLaunchArgument('backend', default_value='',
                              description="auto, cpu, minicpmo, llamacpp_omni or scripted; empty: the params "
                                          "file's value, else auto"),
        DeclareLaunchArgument('use_camera', default_value='true', choices=['true', 'false'],
                              description='false runs omni_node on audio only'),
        DeclareLaunchArgument('use_microphone', default_value='true', choices=['true', 'false'],
                              description='false runs omni_node on video only (e.g. Gazebo, which has no '
                                          'microphone)'),
        DeclareLaunchArgument('use_sim_time', default_value='',
                              description="true in Gazebo or when replaying a bag with a /clock; empty: the "
                                          "params file's value, else false"),
    ]
    # Arguments included: their values and defaults stay in the group, not in a parent that includes this.
    omni = GroupAction(scoped=True, actions=[
        *arguments,
        # Scoped to this group, so they reach omni_node only and not the rest of the robot.
        # (A key in params_file overrides these, so the bundled file leaves them out.)
        SetParameter(name='image_transport', value=LaunchConfiguration('image_transport')),
        SetParameter(name='use_camera', value=LaunchConfiguration('use_camera')),
        SetParameter(name='use_microphone', value=LaunchConfiguration('use_microphone')),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(
                PathJoinSubstitution([FindPackageShare('omni_ros'), 'launch', 'omni.launch.py'])),
            launch_arguments={
                'namespace': LaunchConfiguration('namespace'),
                'image_topic': LaunchConfiguration('camera_topic'),
                'audio_topic': LaunchConfiguration('microphone_topic'),
                'params_file': LaunchConfiguration('params_file'),
                'backend': LaunchConfiguration('backend'),
                'use_sim_time': LaunchConfiguration('use_sim_time'),
            }.items()),
    ])
    return LaunchDescription([omni])
