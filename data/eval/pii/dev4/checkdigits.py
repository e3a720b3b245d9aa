#!/usr/bin/env python3
"""Helper: compute check characters for number bodies typed by hand (GB 11643 mod-11, Luhn, HK ID)."""
import sys
W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
def id_check(body17):
    s = sum(int(c)*w for c, w in zip(body17, W))
    return "10X98765432"[s % 11]
def luhn_check(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9: d -= 9
        total += d
    return str((10 - total % 10) % 10)
def hk_check(letter, six):
    s = 36*9 + (ord(letter)-55)*8 + sum(int(c)*w for c, w in zip(six, [7,6,5,4,3,2]))
    r = (11 - s % 11) % 11
    return 'A' if r == 10 else str(r)
if __name__ == '__main__':
    kind = sys.argv[1]
    for b in sys.argv[2:]:
        if kind == 'id': print(b + id_check(b))
        elif kind == 'card': print(b + luhn_check(b))
        elif kind == 'hk': print(f"{b[0]}{b[1:]}({hk_check(b[0], b[1:])})")
