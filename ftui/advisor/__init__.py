"""Planning: the decision tree, the VRAM estimator and the cost calculator. No Textual here."""
