#!/usr/bin/env python3
"""Helper: print check characters for number bodies typed by hand (ID mod-11 GB 11643, Luhn, HKID).
Usage: python3 checkchars.py id BODY17... | luhn BODY... | hkid A123456"""
import sys
W=[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
def idcheck(b):
    s=sum(int(c)*w for c,w in zip(b,W)); return "10X98765432"[s%11]
def luhn(b):
    tot=0
    for i,c in enumerate(reversed(b)):
        d=int(c)
        if i%2==0:
            d*=2
            if d>9:d-=9
        tot+=d
    return str((10-tot%10)%10)
def hk(b):
    L=b[0]; ds=b[1:]
    s=36*9+(ord(L)-55)*8+sum(int(c)*w for c,w in zip(ds,[7,6,5,4,3,2]))
    r=(11-s%11)%11
    return 'A' if r==10 else str(r)
mode=sys.argv[1]
for b in sys.argv[2:]:
    f={'id':idcheck,'luhn':luhn,'hkid':hk}[mode]
    print(b+f(b), len(b)+1)
