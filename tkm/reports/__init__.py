"""Monthly production, sales and reinvestment reports, their review, and reminders."""
