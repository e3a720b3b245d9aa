#!/usr/bin/python3
"""Helper: compute check characters for hand-written number bodies.

Usage:
  checkgen.py id 11010519880314452      -> prints the 18-char ID (GB 11643 mod-11)
  checkgen.py luhn 622202123456789012   -> prints body + Luhn check digit
  checkgen.py hk A123456                -> prints HK ID with check char
The bodies are typed by hand; this only appends the check character.
"""
import sys

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"


def id_check(body17):
    return C[sum(int(d) * w for d, w in zip(body17, W)) % 11]


def luhn_check(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these will be doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def hk_check(s):
    letters, digits = s[:-6], s[-6:]
    vals = []
    if len(letters) == 1:
        vals.append(36)
    vals += [ord(c) - 55 for c in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(vals, range(9, 1, -1)))
    r = (11 - total % 11) % 11
    return "A" if r == 10 else str(r)


if __name__ == "__main__":
    kind = sys.argv[1]
    for body in sys.argv[2:]:
        if kind == "id":
            print(body + id_check(body))
        elif kind == "luhn":
            print(body + luhn_check(body))
        elif kind == "hk":
            print(f"{body}({hk_check(body)})")
