"""Advanced chapters: a hand-written agent loop and a booking agent that rolls back."""
