"""Stage 6: one formatter per output format behind one interface, chosen from an explicit registry."""
