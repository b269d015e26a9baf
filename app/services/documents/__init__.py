"""Written notices and receipts (回执, 告知书) and the uploaded files of cases and drafts."""
