"""CRC-16/XMODEM, the checksum over a reassembled message (reference §2.2).

Polynomial 0x1021, initial value 0, no reflection, no final XOR. The SDK calls its file
"crc16_ccitt" but computes XMODEM; check value: crc16_xmodem(b"123456789") == 0x31C3.
"""

import binascii


def crc16_xmodem(data: bytes, crc: int = 0) -> int:
    """Return the CRC of `data`, continuing from `crc` so a message can be checked in parts."""
    # binascii.crc_hqx is exactly this algorithm (the CCITT polynomial, MSB first, no xorout);
    # with the SDK's initial value 0 it is XMODEM, and it runs in C.
    return binascii.crc_hqx(data, crc)
