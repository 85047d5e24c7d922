"""Audit: checks over the outputs, such as the privacy scan."""
