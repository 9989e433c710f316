"""MiniCPM-o 4.5 full-duplex backends' shared parts and the transformers backend.

Importing this package is cheap (no torch, no transformers, no PIL): the registry imports it to list
options, and the CPU path must never load the heavy stacks.
"""

from omni_ros.backends.minicpmo.backend import MiniCPMoBackend

__all__ = ['MiniCPMoBackend']
