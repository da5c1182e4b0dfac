"""The shipped presets (TOML) and the weights trained for them; see rnnviz.files.presets."""
