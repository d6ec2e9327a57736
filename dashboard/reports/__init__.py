"""What the record says about a session: summaries and exports built from the store."""
