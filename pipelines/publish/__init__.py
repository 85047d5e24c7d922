"""Publish: copy the built marts to the serving file and swap it in."""
