"""Start omni_node in a robot bring-up.

    ros2 launch omni_ros omni.launch.py image_topic:=/camera/image_raw audio_topic:=/mic/audio

or include it from your own launch file and remap the camera and microphone:

    IncludeLaunchDescription(
        PythonLaunchDescriptionSource([FindPackageShare('omni_ros'), '/launch/omni.launch.py']),
        launch_arguments={'image_topic': '/camera/image_raw', 'audio_topic': '/mic/audio',
                          'params_file': '/path/to/my_omni.yaml'}.items())

Parameters: ``params_file`` has the last word. ``backend`` and ``use_sim_time`` are applied only when
given, and a key of the same name in ``params_file`` overrides them (the bundled file sets neither).

Everything here happens in a scoped group: an unscoped include leaves the parent's launch
configurations, parameters and environment as they were (only the arguments it passes are set, as
IncludeLaunchDescription always does). No DDS transport variable is set for this node alone: a
participant with other builtin transports than the rest of the robot does not discover it. For large
raw camera frames, apply config/fastdds_large_frames.xml to the whole robot instead (README), or use
compressed images (``image_transport: compressed``).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, NotEqualsSubstitution, PathJoinSubstitution
from launch_ros.actions import LifecycleNode, SetParameter
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    image_topic = LaunchConfiguration('image_topic')
    backend, use_sim_time = LaunchConfiguration('backend'), LaunchConfiguration('use_sim_time')
    return LaunchDescription([GroupAction(scoped=True, actions=[
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([FindPackageShare('omni_ros'), 'config', 'omni_node.yaml']),
            description='omni_node parameters (see config/omni_node.yaml for every key); its keys win over '
                        'the backend and use_sim_time arguments'),
        DeclareLaunchArgument('backend', default_value='',
                              description="auto, cpu, minicpmo, llamacpp_omni or scripted; empty: the params "
                                          "file's value, else auto"),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the node and its topics'),
        DeclareLaunchArgument('image_topic', default_value='/camera/image_raw',
                              description='sensor_msgs/Image topic; its /compressed sub-topic is used when '
                                          'image_transport is compressed'),
        DeclareLaunchArgument('audio_topic', default_value='/audio',
                              description='omni_ros_interfaces/AudioChunk microphone topic'),
        DeclareLaunchArgument('use_sim_time', default_value='',
                              description="true in Gazebo or when replaying a bag with --clock; empty: the "
                                          "params file's value, else false"),
        # Parameters set here come before params_file on the node's command line, so the file wins.
        SetParameter(name='backend', value=backend, condition=IfCondition(NotEqualsSubstitution(backend, ''))),
        SetParameter(name='use_sim_time', value=use_sim_time,
                     condition=IfCondition(NotEqualsSubstitution(use_sim_time, ''))),
        LifecycleNode(
            package='omni_ros',
            executable='omni_node',
            name='omni_node',
            namespace=LaunchConfiguration('namespace'),
            output='screen',
            parameters=[LaunchConfiguration('params_file')],
            remappings=[
                ('image', image_topic),
                ('image/compressed', [image_topic, '/compressed']),
                ('audio', LaunchConfiguration('audio_topic')),
            ],
        ),
    ])])
