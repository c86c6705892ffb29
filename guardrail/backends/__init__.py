"""Backends: the embedded local engine (default) and Azure AI Content Safety."""
