"""Mirroring hub videos to other platforms (YouTube)."""
