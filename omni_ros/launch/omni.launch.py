"""Start omni_node in a robot bring-up.

Include it from your own launch file and remap the camera and microphone, e.g.

    IncludeLaunchDescription(
        PythonLaunchDescriptionSource([FindPackageShare('omni_ros'), '/launch/omni.launch.py']),
        launch_arguments={'image_topic': '/camera/image_raw', 'audio_topic': '/mic/audio',
                          'params_file': '/path/to/my_omni.yaml'}.items())
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    image_topic = LaunchConfiguration('image_topic')
    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file', default_value=PathJoinSubstitution([FindPackageShare('omni_ros'), 'config', 'omni_node.yaml']),
            description='omni_node parameters (see config/omni_node.yaml for every key)'),
        DeclareLaunchArgument('backend', default_value='auto',
                              description="auto, cpu, minicpmo, llamacpp_omni or scripted"),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the node and its topics'),
        DeclareLaunchArgument('image_topic', default_value='/camera/image_raw',
                              description='sensor_msgs/Image topic; its /compressed sub-topic is used when '
                                          'image_transport is compressed'),
        DeclareLaunchArgument('audio_topic', default_value='/audio',
                              description='omni_ros_interfaces/AudioChunk microphone topic'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='true in Gazebo or when replaying a bag with --clock'),
        # Camera frames are large: without this, Fast DDS drops most best-effort 1080p images.
        SetEnvironmentVariable('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA'),
        LifecycleNode(
            package='omni_ros',
            executable='omni_node',
            name='omni_node',
            namespace=LaunchConfiguration('namespace'),
            output='screen',
            parameters=[
                LaunchConfiguration('params_file'),
                {'backend': LaunchConfiguration('backend'), 'use_sim_time': LaunchConfiguration('use_sim_time')},
            ],
            remappings=[
                ('image', image_topic),
                ('image/compressed', [image_topic, '/compressed']),
                ('audio', LaunchConfiguration('audio_topic')),
            ],
        ),
    ])
