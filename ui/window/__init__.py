"""The main window and what hangs on it: time controls, the task and undo tools, view modes,
settings."""
