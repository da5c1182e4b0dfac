"""Sharing what is on screen: pictures (PNG, SVG), traces, animations, sessions (the File menu)."""
