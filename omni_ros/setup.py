from glob import glob

from setuptools import find_packages, setup

package_name = 'omni_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={package_name: ['py.typed', 'scenarios/*.yaml']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml')),
    ],
    python_requires='>=3.10',
    install_requires=['setuptools', 'numpy', 'PyYAML', 'Pillow', 'rosbags'],
    extras_require={},
    zip_safe=False,
    maintainer='omni_ros maintainers',
    maintainer_email='maintainers@omni-ros.dev',
    description='Full-duplex omni-modal model node with proactive alerts for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'omni_node = omni_ros.node:main',
            'omni_replay = omni_ros.tools.replay:main',
            'omni_make_scenario = omni_ros.tools.make_scenario:main',
        ],
    },
)
