from glob import glob

from setuptools import find_packages, setup

package_name = 'omni_ros_bt'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={package_name: ['py.typed']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml', 'README.md']),
        ('share/' + package_name + '/bt_cpp', glob('bt_cpp/*.xml')),
        ('share/' + package_name + '/docs', glob('docs/*.md')),
    ],
    python_requires='>=3.10',
    install_requires=['setuptools', 'py_trees'],
    # colcon test runs pytest only for packages that declare it as a test dependency.
    extras_require={'test': ['pytest']},
    zip_safe=False,
    maintainer='omni_ros maintainers',
    maintainer_email='maintainers@omni-ros.dev',
    description='Behavior-tree nodes (py_trees, BehaviorTree.CPP) for omni_ros proactive alerts.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'omni_bt_example = omni_ros_bt.example_tree:main',
        ],
    },
)
