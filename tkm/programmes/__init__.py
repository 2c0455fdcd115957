"""Training centres (BLK) and programmes (calls for applications with their budget rules)."""
