"""Grant applications: business plan, budget lines (RAB), attachments, workflow actions and history."""
