"""PDF letters and reports: gapless register numbers, frozen context snapshots, one locked renderer, verification."""
