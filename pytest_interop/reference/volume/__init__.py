"""Cinder v3 (and the v2 paths guideline 2017.01 names): volumes, snapshots, their actions."""
