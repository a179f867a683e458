"""What every generated PDF shares: the embedded Unicode font and French text laid out safely.

The evidence dossier, the key indicators filed as a proof, and the documents still to come (the
monthly note) all draw with these, so a French narrow no-break space or a user's Markdown looks
the same, and is as safe, in each of them.
"""
