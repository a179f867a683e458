"""Key indicators against network targets: monthly counts per site, weighted rates, gaps."""
