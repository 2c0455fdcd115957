"""Budget amendments (perubahan RAB) of active grants."""
