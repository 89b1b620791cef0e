"""Fake servers speaking real HTTP on 127.0.0.1, shared by the tests."""
