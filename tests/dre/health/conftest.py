"""Fleet health tests send SDK events through the chunk endpoint with the `send` fixture
of tests/dre/conftest.py."""

DAY_START = 1_764_806_400  # 2025-12-04 00:00:00 UTC
