"""Looking into a model: the PCA projection of a state trajectory, the
spectrum of the recurrent weights, and one unit's equations with its numbers."""
