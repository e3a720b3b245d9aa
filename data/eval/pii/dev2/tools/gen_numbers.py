"""Compute valid numbers (ID check chars, Luhn cards, HK/TW ids) to paste into hand-written bios.
Only numbers are computed here; every bio text is written by hand in src/*.txt."""
import random, sys
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 7)

W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
C = "10X98765432"
def id_check(s17):
    return C[sum(int(a)*b for a, b in zip(s17, W)) % 11]

AREAS = ["110105","110108","310115","440305","440106","330106","320102","510107","420111",
         "610113","370202","500103","120101","430104","350203","410105","210102","230102",
         "530102","650102","450103","360102","340104","130104","140105","220102","520102",
         "620102","411522","360731","421127","341225","441900","330302","320583","370683"]

def make_id():
    a = random.choice(AREAS)
    y = random.randint(1962, 2004); m = random.randint(1, 12); d = random.randint(1, 28)
    s = "%s%04d%02d%02d%03d" % (a, y, m, d, random.randint(1, 999))
    return s + id_check(s)

def luhn_complete(prefix, length):
    body = prefix + "".join(random.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9: n -= 9
        total += n
    return body + str((10 - total % 10) % 10)

CARD_PREFIXES = [("622202",19),("621700",19),("622848",19),("621483",16),("622588",16),
                 ("621661",19),("601382",19),("622908",18),("623058",19),("625807",16),
                 ("4367",16),("4392",16),("4514",16),("5187",16),("5324",16),("2221",16),
                 ("2720",16),("37",15),("34",15),("3568",16),("3528",16),("622262",19),("620522",17)]

def hk_id(letter=None):
    letter = letter or random.choice("ABCDEGHKMPRVZ")
    digits = "".join(random.choice("0123456789") for _ in range(6))
    s = 36*9 + (ord(letter)-55)*8 + sum(int(d)*w for d, w in zip(digits, range(7,1,-1)))
    r = (11 - s % 11) % 11
    chk = "A" if r == 10 else str(r)
    return "%s%s(%s)" % (letter, digits, chk)

TW = dict(A=10,B=11,C=12,D=13,E=14,F=15,G=16,H=17,I=34,J=18,K=19,L=20,M=21,N=22,O=35,P=23,Q=24,
          R=25,S=26,T=27,U=28,V=29,W=32,X=30,Y=31,Z=33)
def tw_id():
    L = random.choice("ABFHKE"); g = random.choice("12")
    body = g + "".join(random.choice("0123456789") for _ in range(7))
    n = TW[L]; s = n//10 + (n%10)*9 + sum(int(d)*w for d, w in zip(body, [8,7,6,5,4,3,2,1]))
    return L + body + str((10 - s % 10) % 10)

FW = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
if __name__ == "__main__":
    print("== ID numbers ==")
    for _ in range(45):
        i = make_id(); print(i, i.translate(FW))
    print("== old 15-digit ==")
    for _ in range(5):
        a = random.choice(AREAS); print("%s%02d%02d%02d%03d" % (a, random.randint(60,84), random.randint(1,12), random.randint(1,28), random.randint(1,999)))
    print("== cards ==")
    for p, n in CARD_PREFIXES * 2:
        print(luhn_complete(p, n))
    print("== HK ==")
    for _ in range(4): print(hk_id())
    print("== TW ==")
    for _ in range(4): print(tw_id())
