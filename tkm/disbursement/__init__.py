"""Disbursement: tranches planned from the workflow file, paid request → authorize → pay, bank files."""
