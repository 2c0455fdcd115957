"""Community groups (kelompok usaha) and their members, with NIK checks."""
