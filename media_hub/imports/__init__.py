"""Importing videos from other sites by URL."""
