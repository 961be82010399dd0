"""Domain facts: center codes, fiscal years, counts as typed, the reference data and the vocabularies."""
