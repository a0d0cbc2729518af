#!/usr/bin/python3
"""Password hashes both ways between taskauth and the real libraries: passlib (bcrypt and argon2
handlers), python bcrypt, argon2-cffi, the argon2 command-line tool (Debian package argon2) and
pgcrypto's crypt(); yescrypt hashes from libxcrypt (its crypt(3), through ctypes) one way. Every hash is made at test time by the library named; theirs must verify in
verify_password and ours in them. Low costs keep it fast. Uses the cluster from the PG*
environment; emits TAP.
"""
import base64
import os
import subprocess
import sys

import argon2
import bcrypt
import psycopg2
from passlib.hash import argon2 as passlib_argon2
from passlib.hash import bcrypt as passlib_bcrypt

DB = 'ta_pw_py_%d' % os.getpid()

# Passwords worth crossing: ASCII, empty, UTF-8 of several widths, punctuation, exactly 72 bytes.
PASSWORDS = [
    'correct horse battery staple',
    '',
    'pässwörd-密码-🔐',
    "' OR 1=1; -- $2b$ \\ \"",
    'a' * 72,
    'é' * 36,
]

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import in_scratch_database, tap  # noqa: E402




def label(pw):
    """A short printable name for a password (never the password itself in full)."""
    b = pw.encode()
    if not b:
        return 'empty'
    return '%d bytes' % len(b) if len(b) >= 40 or not pw.isascii() else repr(pw[:12])


def wrong(pw):
    """A different password of the same length (appending would pass the 72-byte mark)."""
    if not pw:
        return 'x'
    return pw[:-1] + ('y' if pw[-1] != 'y' else 'z')


def q(conn, sql, args=()):
    """First column of the first row."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def ours_verify(conn, pw, h):
    """taskauth.verify_password, or the error text if it raised."""
    try:
        return q(conn, 'SELECT taskauth.verify_password(%s, %s)', (pw, h))
    except psycopg2.Error as e:
        return 'error: %s' % e.pgerror


def check_theirs(conn, lib, pw, h):
    """A hash made by another library verifies in taskauth, and a wrong password does not."""
    got = ours_verify(conn, pw, h)
    tap(got is True, '%s hash (%s, %s) verifies in verify_password' % (lib, h[:7], label(pw)), got)
    got = ours_verify(conn, wrong(pw), h)
    tap(got is False, '%s hash (%s, %s) refuses a wrong password' % (lib, h[:7], label(pw)), got)
    if h.startswith('$2') and len(pw.encode()) == 72:
        got = ours_verify(conn, pw + 'x', h)
        tap(got is False, '%s hash of 72 bytes refuses those 72 plus one more' % lib, got)


def argon2_cli(pw, salt, t, k, p, length=32):
    """Encoded argon2id hash from the argon2 command-line tool (salt given as raw bytes)."""
    out = subprocess.run(['argon2', salt, '-id', '-t', str(t), '-k', str(k), '-p', str(p),
                          '-l', str(length), '-e'],
                         input=pw.encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


def main():
    return in_scratch_database(DB, run, ('taskauth', 'pgcrypto'))


def run(conn):
    # --- theirs -> ours: bcrypt ---
    for pw in PASSWORDS:
        b = pw.encode()
        check_theirs(conn, 'python bcrypt', pw, bcrypt.hashpw(b, bcrypt.gensalt(4)).decode())
        check_theirs(conn, 'passlib bcrypt', pw,
                     passlib_bcrypt.using(rounds=4, ident='2b').hash(pw))
        check_theirs(conn, 'pgcrypto crypt', pw,
                     q(conn, "SELECT crypt(%s, gen_salt('bf', 4))", (pw,)))
    pw = PASSWORDS[0]
    check_theirs(conn, 'python bcrypt', pw,
                 bcrypt.hashpw(pw.encode(), bcrypt.gensalt(5, prefix=b'2a')).decode())
    check_theirs(conn, 'passlib bcrypt', pw, passlib_bcrypt.using(rounds=5, ident='2y').hash(pw))
    check_theirs(conn, 'passlib bcrypt', pw, passlib_bcrypt.using(rounds=4, ident='2a').hash(pw))

    # --- theirs -> ours: argon2id ---
    for pw in PASSWORDS:
        check_theirs(conn, 'argon2-cffi', pw,
                     argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=2,
                                           type=argon2.Type.ID).hash(pw))
        check_theirs(conn, 'passlib argon2', pw,
                     passlib_argon2.using(type='ID', rounds=2, memory_cost=128, parallelism=1)
                     .hash(pw))
        if pw:  # the CLI reads the password from stdin and refuses an empty one
            check_theirs(conn, 'argon2 CLI', pw, argon2_cli(pw, b'saltsaltsalt', 2, 256, 2))
    pw = PASSWORDS[0]
    # each library's own defaults (argon2-cffi 21.1: m=102400 t=2 p=8) sit within the maxima
    h = argon2.PasswordHasher().hash(pw)
    check_theirs(conn, 'argon2-cffi defaults', pw, h)
    # the CLI example of the brief (OWASP parameters, 8-byte salt)
    check_theirs(conn, 'argon2 CLI OWASP', pw, argon2_cli(pw, b'saltsalt', 2, 19456, 1))
    # other salt and digest lengths
    check_theirs(conn, 'argon2-cffi 64-byte salt and digest', pw,
                 argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, hash_len=64,
                                       salt_len=64).hash(pw))
    check_theirs(conn, 'argon2 CLI 16-byte digest', pw,
                 argon2_cli(pw, b'saltsaltsalt', 1, 64, 1, length=16))

    # --- theirs -> ours: yescrypt from libxcrypt's crypt(3), called through ctypes (Python 3.13
    # dropped its crypt module; Debian 13 has 3.13) ---
    import ctypes
    libcrypt = ctypes.CDLL('libcrypt.so.1')
    libcrypt.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    libcrypt.crypt.restype = ctypes.c_char_p

    class crypt:  # noqa: N801 - the module's one function, same call
        @staticmethod
        def crypt(word, setting):
            return libcrypt.crypt(word.encode(), setting.encode()).decode()
    alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
    for params in ('j75', 'j9T'):
        for pw in (PASSWORDS[0], PASSWORDS[2]):
            # libxcrypt refuses ('*0') a salt string whose last character has stray bits; draw again
            for _ in range(100):
                salt = ''.join(alphabet[b % 64] for b in os.urandom(22))
                h = crypt.crypt(pw, '$y$%s$%s' % (params, salt))
                if h.startswith('$y$'):
                    break
            check_theirs(conn, 'libxcrypt yescrypt %s' % params, pw, h)

    # --- ours -> theirs: bcrypt ---
    for pw in PASSWORDS:
        h = q(conn, 'SELECT taskauth.hash_password(%s, 4)', (pw,))
        b = pw.encode()
        tap(h.startswith('$2b$04$') and len(h) == 60, 'ours is $2b$04$, 60 chars (%s)' % label(pw), h)
        tap(bcrypt.checkpw(b, h.encode()) and not bcrypt.checkpw(wrong(pw).encode(), h.encode()),
            'ours (%s) verifies in python bcrypt' % label(pw))
        tap(passlib_bcrypt.verify(pw, h) and not passlib_bcrypt.verify(wrong(pw), h),
            'ours (%s) verifies in passlib bcrypt' % label(pw))
        h2a = '$2a$' + h[4:]
        got = q(conn, 'SELECT crypt(%s, %s) = %s', (pw, h2a, h2a))
        tap(got, 'ours (%s) rewritten to $2a$ matches pgcrypto crypt()' % label(pw))

    # --- ours -> theirs: argon2id ---
    hasher = argon2.PasswordHasher()
    for pw in PASSWORDS:
        h = q(conn, 'SELECT taskauth.hash_password_argon2id(%s, 64, 1, 2)', (pw,))
        ok = True
        try:
            hasher.verify(h, pw)
        except argon2.exceptions.VerifyMismatchError:
            ok = False
        try:
            hasher.verify(h, wrong(pw))
            ok = False
        except argon2.exceptions.VerifyMismatchError:
            pass
        tap(ok, 'ours argon2id (%s) verifies in argon2-cffi' % label(pw), h)
        tap(passlib_argon2.verify(pw, h) and not passlib_argon2.verify(wrong(pw), h),
            'ours argon2id (%s) verifies in passlib argon2' % label(pw), h)
    # through the settings, at the OWASP defaults
    pw = PASSWORDS[2]
    with conn.cursor() as cur:
        cur.execute("SET taskauth.password_algorithm = 'argon2id'")
    h = q(conn, 'SELECT taskauth.hash_password(%s)', (pw,))
    with conn.cursor() as cur:
        cur.execute('RESET taskauth.password_algorithm')
    tap(h.startswith('$argon2id$v=19$m=19456,t=2,p=1$'), 'hash_password under argon2id uses OWASP parameters', h)
    params = argon2.extract_parameters(h)
    tap((params.memory_cost, params.time_cost, params.parallelism, params.salt_len, params.hash_len)
        == (19456, 2, 1, 16, 32), 'argon2-cffi reads its parameters (m, t, p, salt and digest length)',
        params)
    try:
        tap(hasher.verify(h, pw), 'ours at OWASP parameters verifies in argon2-cffi')
    except argon2.exceptions.VerifyMismatchError as e:
        tap(False, 'ours at OWASP parameters verifies in argon2-cffi', e)

    # the argon2 CLI recomputes ours exactly: same salt, same parameters, same string
    done = 0
    for _ in range(20):
        h = q(conn, 'SELECT taskauth.hash_password_argon2id(%s, 256, 2, 2)', (PASSWORDS[0],))
        salt = argon2_b64decode(h.split('$')[4])
        if b'\0' in salt:
            continue  # a command-line argument cannot carry a zero byte; draw another salt
        cli = argon2_cli(PASSWORDS[0], salt, 2, 256, 2)
        tap(cli == h, 'argon2 CLI recomputes ours to the same PHC string', '%s\n%s' % (h, cli))
        done += 1
        if done == 2:
            break
    tap(done == 2, 'two argon2 CLI recomputations ran')


def argon2_b64decode(s):
    """Unpadded standard base64, as PHC strings carry salts."""
    return base64.b64decode(s + '=' * (-len(s) % 4))


if __name__ == '__main__':
    sys.exit(main())
