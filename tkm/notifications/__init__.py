"""E-mail notifications: written with the change, sent by a worker (SMTP or files in TKM_DATA_DIR/outbox)."""
