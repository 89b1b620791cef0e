"""Zalo channels: bot accounts (Zalo Bot Platform) and Official Accounts (OA Open API)."""
