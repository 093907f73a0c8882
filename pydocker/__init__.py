"""pydocker: a container engine in Python following the classic Docker architecture."""

__version__ = "0.1.0"
API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
