"""`python -m lessons`: the lesson list (catalog) and the tour that runs them (tour). No torch here."""
