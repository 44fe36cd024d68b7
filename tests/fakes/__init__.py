"""Loopback fake servers that speak the real platforms' HTTP protocols, for end-to-end tests."""
