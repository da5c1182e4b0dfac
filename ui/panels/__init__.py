"""The side panels (unit inspector, trajectory, weights) and the training panel with its dock."""
