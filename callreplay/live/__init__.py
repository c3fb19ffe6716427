"""Live target mode: play Twilio towards the user's running server over real sockets."""
