"""The pytest side of the plugin: the only modules besides plugin.py that import pytest."""
