#!/usr/bin/python3
"""A stand-in for PostgREST, for the docs' PostgREST examples: PostgREST itself cannot be installed
here (it is not in Debian 12's archive), so this replays, over real HTTP, what PostgREST 12 and 13
do for each request, as their source does it (src/PostgREST/Auth.hs, Query.hs, Error.hs; v14's
Query/PreQuery.hs is the same), for the few request shapes the docs use. It is not PostgREST:
it checks taskauth's side of the protocol and the docs' commands, nothing of PostgREST's own.

  postgrest_standin.py --conf FILE -- COMMAND...

FILE is the docs' postgrest.conf block (db-uri, db-schemas, db-anon-role, db-pre-request, and
jwt-secret in deployment A). The
database connection takes the user, password and database from db-uri and the host and port
from PGHOST and PGPORT (the test cluster's). It opens its one connection, then moves itself into
a network namespace of its own (so that the docs' localhost:3000 is free whatever else runs on
the machine), listens on 127.0.0.1:3000 as the docs' commands expect, runs COMMAND there (a
child in the same namespace), and exits with its status.

Per request, as PostgREST does: the JWT check when a bearer token comes and jwt-secret is set
(HS256/384/512, exp/nbf/iat with 30 s of skew, aud unchecked without jwt-aud; 401 PGRST301 when
it fails; 500 PGRST300 for a bearer token without jwt-secret); the role is the token's role claim
or db-anon-role; then, in one READ COMMITTED transaction (read-only for GET): one SELECT of
transaction-local set_config calls (search_path, role, request.jwt.claims, request.method,
request.path, request.headers, request.cookies), SELECT <db-pre-request>(), the query; COMMIT, or
ROLLBACK and the error mapped to a status: PGRST by its JSON detail, PTxyz to xyz, 42501 to 401
when the role is db-anon-role (403 otherwise), 28* to 403, 23503/23505 to 409, 25006 to 405,
P0001 to 400, and the rest as Error.hs's pgErrorStatus.
"""
import ctypes
import fcntl
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import psycopg2

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def read_conf(path):
    conf = {}
    for line in open(path):
        line = re.sub(r'\s+#.*$', '', line).strip()
        m = re.match(r'^([A-Za-z0-9_.-]+)\s*=\s*"?(.*?)"?$', line)
        if m:
            conf[m.group(1)] = m.group(2)
    return conf


def own_network():
    """A network namespace of this process's own, its loopback up; False when not allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ifr = struct.pack('16sH14x', b'lo', 0)
    flags = struct.unpack('16sH14x', fcntl.ioctl(s, SIOCGIFFLAGS, ifr))[1]
    fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack('16sH14x', b'lo', flags | IFF_UP))
    s.close()
    return True


def status_of(code, msg, authed):
    """Error.hs's pgErrorStatus, for a SQLSTATE and message."""
    exact = {'23503': 409, '23505': 409, '25006': 405, '53400': 500, '57P01': 503, 'P0001': 400,
             '42P01': 404, '42P17': 500, '42883': 404}
    if code == '42501':
        return 403 if authed else 401
    if code == '22023':
        return 401 if msg.startswith('role') and msg.endswith('does not exist') else 400
    if code in exact:
        return exact[code]
    prefix = {'08': 503, '09': 500, '0L': 403, '0P': 403, '25': 500, '28': 403, '2D': 500, '38': 500,
              '39': 500, '3B': 500, '40': 500, '53': 503, '54': 500, '55': 500, '57': 500, '58': 500,
              'F0': 500, 'HV': 500, 'P0': 500, 'XX': 500}
    if code[:2] in prefix:
        return prefix[code[:2]]
    if code.startswith('PT') and code[2:].isdigit():
        return int(code[2:])
    return 400


class Replay(BaseHTTPRequestHandler):
    conf, db, secret = None, None, None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = b'' if body is None else body.encode()
        self.send_response(status)
        if body is not None:
            self.send_header('Content-Type', 'application/json; charset=utf-8')
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message, details=None, hint=None, headers=()):
        self.reply(status, json.dumps({'code': code, 'details': details, 'hint': hint, 'message': message}), headers)

    def do_GET(self):
        self.handle_request('GET')

    def do_POST(self):
        self.handle_request('POST')

    def do_PATCH(self):
        self.handle_request('PATCH')

    def do_DELETE(self):
        self.handle_request('DELETE')

    def handle_request(self, method):
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        anon = self.conf['db-anon-role']
        # Auth.hs: the bearer token, checked with jwt-secret when there is one
        claims = {}
        auth = self.headers.get('Authorization')
        m = re.match(r'(?i)^bearer\s+(.*)$', auth or '')
        if m:
            if self.secret is None:
                return self.error(500, 'PGRST300', 'Server lacks JWT secret')
            try:
                claims = jwt.decode(m.group(1), self.secret, algorithms=['HS256', 'HS384', 'HS512'], leeway=30,
                                    options={'verify_aud': False, 'require': []})
            except jwt.PyJWTError as e:
                return self.error(401, 'PGRST301', str(e), headers=[
                    ('WWW-Authenticate', f'Bearer error="invalid_token", error_description="{e}"')])
        role = claims.get('role', anon)
        authed = role != anon
        claims = dict(claims, role=role)
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != 'cookie'}
        try:
            status, out, extra = self.run(method, url, body, role, claims, headers)
        except psycopg2.Error as e:
            code, msg = e.pgcode or 'XX000', e.diag.message_primary or ''
            if code == 'PGRST':
                m, d = json.loads(msg), json.loads(e.diag.message_detail or '{}')
                return self.error(d.get('status', 500), m.get('code'), m.get('message'), m.get('details'), m.get('hint'),
                                  headers=list(d.get('headers', {}).items()))
            st = status_of(code, msg, authed)
            return self.error(st, code, msg, e.diag.message_detail, e.diag.message_hint,
                              headers=[('WWW-Authenticate', 'Bearer')] if st == 401 else [])
        self.reply(status, out, extra)

    def run(self, method, url, body, role, claims, headers):
        schema = self.conf['db-schemas'].split(',')[0].strip()
        q = urllib.parse.parse_qsl(url.query)
        cur = self.db.cursor()
        try:
            cur.execute('BEGIN ISOLATION LEVEL READ COMMITTED' + (' READ ONLY' if method == 'GET' else ''))
            cur.execute('select set_config(\'search_path\', %s, true), set_config(\'role\', %s, true), '
                        'set_config(\'request.jwt.claims\', %s, true), set_config(\'request.method\', %s, true), '
                        'set_config(\'request.path\', %s, true), set_config(\'request.headers\', %s, true), '
                        'set_config(\'request.cookies\', %s, true)',
                        (f'"{schema}", "public"', role, json.dumps(claims), method, url.path, json.dumps(headers), '{}'))
            if self.conf.get('db-pre-request'):
                cur.execute(f'select {self.conf["db-pre-request"]}()')
            result = self.query(cur, method, url.path, q, body, schema)
            cur.execute('COMMIT')
            return result
        except BaseException:
            cur.execute('ROLLBACK')
            raise

    def query(self, cur, method, path, q, body, schema):
        ident = lambda n: '"' + n.replace('"', '""') + '"'
        single = 'vnd.pgrst.object' in (self.headers.get('Accept') or '')
        prefer = self.headers.get('Prefer') or ''
        filters = [(k, v[3:]) for k, v in q if k != 'select' and v.startswith('eq.')]
        select = dict(q).get('select', '*')
        cols = '*' if select == '*' else ', '.join(ident(c) for c in select.split(','))
        where = ' AND '.join(f'{ident(k)} = %s' for k, _ in filters) or 'true'
        args = [v for _, v in filters]
        m = re.match(r'^/rpc/(\w+)$', path)
        if m:
            fn = f'{ident(schema)}.{ident(m.group(1))}'
            params = json.loads(body or b'{}')
            call = f'{fn}(' + ', '.join(f'{ident(k)} => %s' for k in params) + ')'
            cur.execute('SELECT p.proretset, p.prorettype = \'void\'::regtype FROM pg_proc p '
                        'WHERE p.oid = to_regproc(%s)', (f'{schema}.{m.group(1)}',))
            setof, void = cur.fetchone() or (False, False)
            if setof:
                cur.execute(f'SELECT coalesce(json_agg(t), \'[]\')::text FROM {call} t', list(params.values()))
            else:
                cur.execute(f'SELECT to_json({call})::text', list(params.values()))
            out = cur.fetchone()[0]
            if void:
                return 204, None, []
            if setof and single:
                out = json.dumps(json.loads(out)[0])
            return 200, out, []
        table = f'{ident(schema)}.{ident(path.strip("/"))}'
        if method == 'GET':
            cur.execute(f'SELECT coalesce(json_agg(t), \'[]\')::text FROM (SELECT {cols} FROM {table} WHERE {where}) t', args)
            out = cur.fetchone()[0]
            return 200, (json.dumps(json.loads(out)[0]) if single else out), []
        if method == 'POST':
            row = json.loads(body)
            names = ', '.join(ident(k) for k in row)
            cur.execute(f'WITH pgrst_ins AS (INSERT INTO {table} ({names}) SELECT {names} FROM '
                        f'json_populate_record(NULL::{table}, %s) RETURNING *) '
                        f'SELECT coalesce(json_agg(t), \'[]\')::text FROM (SELECT {cols} FROM pgrst_ins) t', [json.dumps(row)])
            out = cur.fetchone()[0]
            if 'return=representation' not in prefer:
                return 201, None, []
            return 201, (json.dumps(json.loads(out)[0]) if single else out), []
        if method == 'PATCH':
            row = json.loads(body)
            sets = ', '.join(f'{ident(k)} = r.{ident(k)}' for k in row)
            own = ' AND '.join(f'pgrst_t.{ident(k)} = %s' for k, _ in filters) or 'true'
            cur.execute(f'UPDATE {table} AS pgrst_t SET {sets} FROM json_populate_record(NULL::{table}, %s) r '
                        f'WHERE {own}', [json.dumps(row)] + args)
            return 204, None, []
        if method == 'DELETE':
            cur.execute(f'DELETE FROM {table} WHERE {where}', args)
            return 204, None, []
        return 405, None, []


def main(argv):
    i = argv.index('--')
    opts, command = argv[1:i], argv[i + 1:]
    conf = read_conf(opts[opts.index('--conf') + 1])
    secret = conf.get('jwt-secret')
    uri = urllib.parse.urlsplit(conf['db-uri'])
    Replay.conf, Replay.secret = conf, secret
    Replay.db = psycopg2.connect(host=os.environ.get('PGHOST', 'localhost'), port=os.environ.get('PGPORT', '5432'),
                                 user=urllib.parse.unquote(uri.username), password=urllib.parse.unquote(uri.password or ''),
                                 dbname=uri.path.lstrip('/'))
    Replay.db.autocommit = True
    if not own_network():
        print('postgrest_standin: no network namespace of its own (not root?); using this one', file=sys.stderr)
    server = HTTPServer(('127.0.0.1', 3000), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rc = subprocess.run(command).returncode
    server.shutdown()
    sys.exit(rc)


if __name__ == '__main__':
    main(sys.argv)
