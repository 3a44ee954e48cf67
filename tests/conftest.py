"""Test configuration shared by every directory.

Shared helpers live in modules with unique names (``payloads.py``): ``from conftest import``
is ambiguous once several test directories have a conftest of their own.
"""
