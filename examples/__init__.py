"""Examples shipped with callreplay: a user's pipeline profile, captures, logs and an example bridge server."""
