"""pandera schemas for center submissions, and the catalogue of rules they enforce."""
