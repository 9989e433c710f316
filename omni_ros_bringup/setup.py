from glob import glob

from setuptools import setup

package_name = 'omni_ros_bringup'

# Launch and configuration files only: no Python module (like nav2_bringup / llama_bringup).
setup(
    name=package_name,
    version='0.1.0',
    packages=[],
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml', 'README.md']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml')),
    ],
    python_requires='>=3.10',
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='omni_ros maintainers',
    maintainer_email='maintainers@omni-ros.dev',
    description='Robot integration launch and configuration for omni_ros.',
    license='Apache-2.0',
)
