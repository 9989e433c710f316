"""Every exception omni_ros raises on purpose. Messages say what to change."""

from __future__ import annotations


class OmniError(Exception):
    """Base of all omni_ros errors."""


class ConfigError(OmniError):
    """A parameter or configuration file value is invalid."""


class ConversionError(OmniError):
    """An input message cannot be converted (unsupported encoding, bad size, corrupt data)."""


class UnsupportedEncodingError(ConversionError):
    """The image or audio encoding is not one omni_ros can decode."""


class BackendError(OmniError):
    """A backend failed while running."""


class BackendSetupError(BackendError):
    """A backend could not be loaded (missing model, missing package, no device, no server)."""


class WatchRejectedError(OmniError):
    """A watch instruction was refused (empty, too long, or not understood by the backend)."""


class MappingError(OmniError):
    """A ROS message holds a value with no core equivalent (or the reverse)."""
