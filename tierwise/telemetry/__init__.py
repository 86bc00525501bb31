"""Exporters of tierwise's own figures to the tools people already watch (OpenTelemetry backends, Langfuse)."""

from .otel import OpenTelemetryHook

__all__ = ["OpenTelemetryHook"]
