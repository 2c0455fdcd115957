"""Shared pieces of the server-rendered pages: Jinja set-up, layout, home and language switch."""
