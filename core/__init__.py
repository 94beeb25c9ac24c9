"""Jixiao (绩效): the core of the performance-management portal.

Plugins import `hookimpl` from here: ``from core import hookimpl``.
"""
import pluggy

hookimpl = pluggy.HookimplMarker("jixiao")

from core.app import create_app  # noqa: E402  (hookimpl must exist before plugins import it)

__all__ = ["create_app", "hookimpl"]
