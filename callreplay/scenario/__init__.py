"""Scenario files: loading (with line numbers), validation against the published JSON Schema, and the model."""
