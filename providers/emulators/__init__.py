"""Local emulators of mail and calendar APIs, for end-to-end tests and demos of providers."""

from providers.emulators.google import GoogleEmulator
from providers.emulators.graph import GraphEmulator

__all__ = ["GoogleEmulator", "GraphEmulator"]
