"""Local emulators of mail and calendar APIs, for end-to-end tests and demos of providers.

The emulator classes are imported on first use, so that `python -m providers.emulators.google`
does not find its own module already imported (runpy warns about that)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.emulators.google import GoogleEmulator
    from providers.emulators.graph import GraphEmulator

__all__ = ["GoogleEmulator", "GraphEmulator"]


def __getattr__(name: str) -> Any:
    if name == "GoogleEmulator":
        from providers.emulators.google import GoogleEmulator

        return GoogleEmulator
    if name == "GraphEmulator":
        from providers.emulators.graph import GraphEmulator

        return GraphEmulator
    raise AttributeError(name)
