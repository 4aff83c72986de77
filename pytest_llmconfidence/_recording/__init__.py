"""Cassettes: recording and replaying HTTP through vcrpy, the socket guard and the secret scan."""
