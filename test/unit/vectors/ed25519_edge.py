#!/usr/bin/python3
"""Writes ed25519_edge.txt: Ed25519 verification edge cases built from their definitions.

Affine arithmetic on edwards25519 (RFC 8032 §5.1), written for this file alone; it needs no
package beyond Python 3. Every case is deterministic (keys and nonces come from SHA-512 of fixed
labels), so running it again gives the same file. Each line is

    name  openssl  libsodium  public-key  message  signature

with the verdicts (accept/reject) that OpenSSL 3.0's Ed25519 and libsodium 1.0.18's
crypto_sign_verify_detached give on Debian 12; hex fields, "-" for an empty message. The unit
test (test_ed25519.c) runs the verifier on each line.
"""
import hashlib
import os

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
O = (0, 1)


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P,
            (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P)


def mul(k, pt):
    acc = O
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def neg(pt):
    return (-pt[0] % P, pt[1])


def x_for(y, sign):
    """The x of the point with this y and x's low bit, or None (RFC 8032 §5.1.3 steps 2-4)."""
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    if v * x * x % P != u:
        return None
    if x == 0 and sign:
        return None
    return P - x if x & 1 != sign else x


def enc(pt):
    return (pt[1] | ((pt[0] & 1) << 255)).to_bytes(32, 'little')


def raw(y, sign):
    """An encoding written out as given, canonical or not."""
    return (y | (sign << 255)).to_bytes(32, 'little')


def h_int(*parts):
    return int.from_bytes(hashlib.sha512(b''.join(parts)).digest(), 'little')


BASE = (x_for(4 * pow(5, -1, P) % P, 0), 4 * pow(5, -1, P) % P)


def order8_point():
    """A point of order 8: the torsion part of a point found by hashing."""
    i = 0
    while True:
        y = h_int(b'torsion', bytes([i])) % P
        i += 1
        x = x_for(y, 0)
        if x is None:
            continue
        t = mul(L, (x, y))
        if mul(4, t) != O:
            return t


def sign(a, pk, msg, label):
    r = h_int(b'nonce', label) % L
    rb = enc(mul(r, BASE))
    return rb + ((r + h_int(rb, pk, msg) * a) % L).to_bytes(32, 'little')


RFC8032 = [
    ('rfc8032_test1', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
     'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'),
    ('rfc8032_test2', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
     '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'),
    ('rfc8032_test3', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
     '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'),
]


def main():
    lines = []

    def case(name, openssl, sodium, pk, msg, sig):
        lines.append('%s %s %s %s %s %s' % (name, openssl, sodium, pk.hex(), msg.hex() or '-',
                                            sig.hex()))

    # RFC 8032 §7.1, TEST 1, 2 and 3: the known answers.
    for name, pkh, mh, sh in RFC8032:
        case(name, 'accept', 'accept', bytes.fromhex(pkh), bytes.fromhex(mh), bytes.fromhex(sh))

    a = h_int(b'key') % L
    pk = enc(mul(a, BASE))
    msg = b'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJlZGdlIn0'
    good = sign(a, pk, msg, b'good')
    case('control_valid', 'accept', 'accept', pk, msg, good)

    # S + L and S + 2L: the same point, non-canonical scalars (RFC 8032 §5.1.7 step 1, §8.4)
    s = int.from_bytes(good[32:], 'little')
    for k in (1, 2, 14):
        case('s_plus_%dl' % k, 'reject', 'reject', pk, msg, good[:32] + (s + k * L).to_bytes(32, 'little'))

    # Small-order public keys, canonical and not, with the forgery R = identity, S = 0: it
    # satisfies [S]B = R + [h]A whenever [h]A is the identity, so a message is searched for
    # whose h is a multiple of A's order. A verifier that decodes such a key accepts it for that
    # message, with no private key at all.
    t8 = order8_point()
    ident = enc(O)
    small = [('k%d' % k, enc(mul(k, t8)), mul(k, t8)) for k in range(8)]
    small += [
        ('identity_negzero', raw(1, 1), O),            # x = -0: RFC 8032 §5.1.3 step 4 refuses
        ('order2_negzero', raw(P - 1, 1), (0, P - 1)),
        ('order4_y_eq_p', raw(P, 0), (x_for(0, 0), 0)),  # y = p, non-canonical for y = 0
        ('order4_y_eq_p_neg', raw(P, 1), (x_for(0, 1), 0)),
        ('identity_y_eq_p1', raw(P + 1, 0), O),        # y = p + 1, non-canonical for y = 1
        ('identity_y_eq_p1_neg', raw(P + 1, 1), O),
    ]
    for name, apk, apt in small:
        for i in range(1000):
            m = b'small-order key %d' % i
            if mul(h_int(ident, apk, m) % L, apt) == O:
                break
        case('small_order_key_' + name, 'accept', 'reject', apk, m, ident + bytes(32))

    # R = identity with an honest key: S = h * a satisfies the cofactorless equation.
    s_id = h_int(ident, pk, msg) * a % L
    case('r_identity', 'accept', 'reject', pk, msg, ident + s_id.to_bytes(32, 'little'))
    # R of order 2, 4 and 8: no S makes the equation hold; both refuse.
    for k in (4, 2, 1):
        rb = enc(mul(k, t8))
        case('r_small_order_k%d' % k, 'reject', 'reject', pk, msg,
             rb + (h_int(rb, pk, msg) * a % L).to_bytes(32, 'little'))

    # A key with a torsion part (A = [a]B + T, T of order 8), neither small-order nor in the
    # prime-order subgroup: an honest signature verifies under the cofactorless equation when
    # [h]T is the identity (h a multiple of 8) and not otherwise.
    mpk = enc(add(mul(a, BASE), t8))
    found = {}
    for i in range(100):
        m = b'mixed-order key %d' % i
        r = h_int(b'nonce', m) % L
        rb = enc(mul(r, BASE))
        h = h_int(rb, mpk, m) % L      # the verifier reduces h mod L before [h]A
        key = 'h8' if h % 8 == 0 else 'hnot8'
        if key not in found:
            found[key] = (m, rb + ((r + h * a) % L).to_bytes(32, 'little'))
        if len(found) == 2:
            break
    case('mixed_order_key_h_multiple_of_8', 'accept', 'accept', mpk, *found['h8'])
    case('mixed_order_key_h_not_multiple_of_8', 'reject', 'reject', mpk, *found['hnot8'])

    # A non-canonical key (y = p + k) that is a valid point of full order: its discrete log is
    # unknown, so no signature can be made; the honest signature above must not pass.
    for k in range(2, 19):
        if x_for(k, 0) is not None and mul(8, (x_for(k, 0), k)) != O:
            case('noncanonical_key_y_p_plus_%d' % k, 'reject', 'reject', raw(P + k, 0), msg, good)
            break

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ed25519_edge.txt')
    with open(out, 'w') as f:
        f.write('# Written by ed25519_edge.py; see there. name openssl libsodium pk msg sig\n')
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
