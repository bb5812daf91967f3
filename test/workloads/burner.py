"""A steady CPU burner holding a known amount of resident memory, until it is killed.

Usage: burner.py BALLAST_MIB
"""

import sys

# Filled with non-zero bytes so that every page is resident (a zeroed allocation may not be).
ballast = b"\x01" * (int(sys.argv[1]) << 20)
x = 1
while True:
    x = (x * 1103515245 + 12345) & 0xFFFFFFFF
