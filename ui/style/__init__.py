"""Colours, colour maps, fonts, and the styling of existing plot items (light, dark,
presentation)."""
