"""Batch conversion: resumable, error-isolated, parallel (local processes or Ray)."""
