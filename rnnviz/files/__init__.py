"""The file formats rnnviz reads and writes: weights (PyTorch's names), presets (TOML),
session files, traces as CSV, animations, and a preset saved from the window."""
