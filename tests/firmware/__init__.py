"""Test firmware for QEMU and the harness that makes the GDB reference fixtures."""
