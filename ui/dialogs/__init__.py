"""The dialogs: a column's model, the task and its settings."""
