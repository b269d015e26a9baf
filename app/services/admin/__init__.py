"""Administration: the working-day calendar and its import files."""
