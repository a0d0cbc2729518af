#!/usr/bin/python3
"""examples/fastapi, the original design's backend on taskauth, driven over HTTP on loopback:
uvicorn started here (Debian's python3-fastapi, python3-sqlmodel, python3-uvicorn) on a free
127.0.0.1 port, over a database of the PG* environment's cluster, and stopped at the end.

- the design's own tests (its backend/tests/test_tasks.py): 401 without a token (not
  HTTPBearer's 403), a list for a signed-in user, 201 with the caller's user_id on create, and
  another user's task refused: 404 here, the answer row-level security gives (the app's README
  says why not the design's 403), for reading, changing and deleting it alike;
- the rest of the routes (get, PATCH, DELETE), bad input (422) and refused tokens (401 with
  WWW-Authenticate: Bearer error="invalid_token" and the reason);
- a revoked session's token is refused: taskauth.logout, then logout_everywhere;
- a token of a real Better Auth (test/interop's npm tree, lib/betterauth_cli.mjs), verified
  with the keys of its jwks table (taskauth.add_issuer), works; its sign-out ends it at once
  (taskauth.follow_issuer_sessions).
And docs/frontends.md's section on the move: its SQL runs verbatim (the role the app logs in
as here), its Python excerpts are the code of both versions, and its line counts are what its
command prints. Emits TAP.
"""
# readme-blocks: docs/frontends.md fastapi-role fastapi-before-auth fastapi-after-session
# readme-blocks: docs/frontends.md fastapi-before-list fastapi-after-list fastapi-lines
import base64
import datetime
import hashlib
import hmac
import json
import re
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402
import doc_blocks  # noqa: E402

ROOT = os.environ.get('TASKAUTH_ROOT') or os.path.abspath(os.path.join(here, '..', '..'))
APP_DIR = os.path.join(ROOT, 'examples', 'fastapi')
DB = 'ta_fastapi_%d' % os.getpid()
PAGE = 'docs/frontends.md'
# The login role and password of the page's fastapi-role block, which makes them.
API_ROLE, API_PASSWORD = 'tasks_api', 'change-me'
VERSIONS = {'before': 'bench/http/fastapi', 'after': 'examples/fastapi'}
BETTER_AUTH_URL = 'http://localhost:3000'
FRONTEND = 'http://localhost:3000'   # the origin CORS_ORIGINS allows
PASSWORD = 'fastapi-example-password'
SECRET = os.urandom(32).hex()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def database_url():
    host = os.environ.get('PGHOST', 'localhost')
    port = os.environ.get('PGPORT', '5432')
    if host.startswith('/'):
        return 'postgresql://%s:%s@/%s?host=%s&port=%s' % (API_ROLE, API_PASSWORD, DB, host, port)
    return 'postgresql://%s:%s@%s:%s/%s' % (API_ROLE, API_PASSWORD, host, port, DB)


class Server:
    """uvicorn serving examples/fastapi in a process group of its own, its log in a file."""

    def __init__(self):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log = tempfile.NamedTemporaryFile(prefix='ta-fastapi-', suffix='.log', delete=False)
        self.proc = subprocess.Popen(
            ['/usr/bin/python3', '-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1',
             '--port', str(self.port), '--log-level', 'warning'],
            cwd=APP_DIR, env=dict(os.environ, DATABASE_URL=database_url(), CORS_ORIGINS=FRONTEND),
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self):
        for _ in range(300):
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def output(self):
        with open(self.log.name, encoding='utf-8', errors='replace') as f:
            return f.read()

    def stop(self):
        """SIGTERM to the group, SIGKILL after 10 s; True when it stopped on SIGTERM."""
        if self.proc.poll() is not None:
            return False
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return False


def request(server, method, path, token=None, body=None, authorization=None, headers=None):
    """(status, headers, parsed JSON body or text or None)."""
    headers = dict(headers or {})
    if token is not None:
        headers['Authorization'] = 'Bearer ' + token
    if authorization is not None:
        headers['Authorization'] = authorization
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    req = urllib.request.Request(server.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    text = raw.decode()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, hdrs, Body(parsed) if isinstance(parsed, dict) else parsed


class Body(dict):
    """A JSON object answered; body['x'] of a member it lacks is None, not an error."""

    def __missing__(self, key):
        return None


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip('=')


def hs256(header, claims, key):
    """A compact JWS, HMAC-SHA256 over header and claims."""
    signing_input = '%s.%s' % (b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()))
    return '%s.%s' % (signing_input, b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()))


def when(timestamp):
    """An answer's time (pydantic 1 writes +00:00, pydantic 2 Z)."""
    return datetime.datetime.fromisoformat(timestamp.replace('Z', '+00:00'))


def sign_in(db, email):
    return one(db, 'SELECT access_token FROM taskauth.sign_in(%s, %s)', (email, PASSWORD))


def revoked(r):
    status, hdrs, body = r
    return (status == 401 and body == {'detail': 'token revoked'}
            and hdrs.get('WWW-Authenticate') == 'Bearer error="invalid_token"')


def better_auth(*args):
    """A step of lib/betterauth_cli.mjs over the test database; its output (raises on failure)."""
    env = dict(os.environ, PGDATABASE=DB)
    r = subprocess.run(['node', os.path.join(here, 'lib', 'betterauth_cli.mjs'), BETTER_AUTH_URL] + list(args),
                       cwd=here, env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError('betterauth_cli.mjs %s failed: %s' % (args[0], r.stderr.strip()[-2000:]))
    return r.stdout


def page_block(name):
    text = doc_blocks.find(PAGE, name)
    if text is None:
        raise RuntimeError('%s has no block %s' % (PAGE, name))
    return text


def check_excerpts():
    """Each python block of the page is excerpts, each under a "# app/FILE.py" line, of the
    version its name says: the code as it stands in that file."""
    for name in ('fastapi-before-auth', 'fastapi-before-list', 'fastapi-after-session', 'fastapi-after-list'):
        base = VERSIONS[name.split('-')[1]]
        parts = re.split(r'^# (app/\S+\.py)\n', page_block(name), flags=re.M)
        missing = []
        for path, excerpt in zip(parts[1::2], parts[2::2]):
            with open(os.path.join(ROOT, base, path), encoding='utf-8') as f:
                if excerpt not in f.read():
                    missing.append('%s/%s:\n%s' % (base, path, excerpt))
        tap(parts[0] == '' and len(parts) > 2 and not missing,
            '%s: its %d excerpts are in %s as they stand' % (name, len(parts) // 2, base), '\n'.join(missing) or parts[0])


def check_line_counts():
    """The page's table of lines per file is what its fastapi-lines command prints."""
    r = subprocess.run(['bash', '-c', page_block('fastapi-lines')], cwd=ROOT, capture_output=True, text=True)
    counted = {}
    for line in r.stdout.split():
        path, n = line.rsplit(':', 1)
        for version, base in VERSIONS.items():
            if path.startswith(base + '/') and int(n) > 0:
                counted[(version, path[len(base) + 1:])] = int(n)
    with open(os.path.join(ROOT, PAGE), encoding='utf-8') as f:
        page = f.read()
    table, totals = {}, None
    for m in re.finditer(r'^\| (`app/\S+`|total) \| (\w+) \| (\w+) \|$', page, flags=re.M):
        cells = dict(zip(VERSIONS, m.group(2, 3)))
        if m.group(1) == 'total':
            totals = {v: int(n) for v, n in cells.items()}
            continue
        for version, n in cells.items():
            if n != 'deleted':
                table[(version, m.group(1).strip('`'))] = int(n)
    sums = {v: sum(n for (w, _), n in counted.items() if w == v) for v in VERSIONS}
    tap(r.returncode == 0 and counted and table == counted and totals == sums,
        "the page's table of lines per file, and its totals, are what its command counts (%s)" % sums,
        'counted %s\ntable   %s\ntotals  %s\n%s' % (sorted(counted.items()), sorted(table.items()), totals, r.stderr))


def scenario(server, db):
    ids = {e: one(db, 'SELECT taskauth.register(%s, %s)::text', (e, PASSWORD))
           for e in ('alice@example.com', 'bob@example.com')}
    alice, bob = ids['alice@example.com'], ids['bob@example.com']
    alice_token, bob_token = sign_in(db, 'alice@example.com'), sign_in(db, 'bob@example.com')
    get = lambda path, token=None, **kw: request(server, 'GET', path, token, **kw)  # noqa: E731

    # The design's test_list_tasks_unauthenticated.
    status, hdrs, body = get('/api/tasks')
    tap(status == 401 and isinstance(body, dict) and 'detail' in body and hdrs.get('WWW-Authenticate') == 'Bearer',
        'no token: 401 (not HTTPBearer\'s 403), a detail and WWW-Authenticate: Bearer', (status, body))
    status, _, body = get('/api/tasks', authorization='Basic YWxpY2U6c2VjcmV0')
    tap(status == 401, 'an Authorization header of another scheme: 401', (status, body))

    # CORS, for a frontend that calls the API from the browser (CORS_ORIGINS).
    preflight = {'Access-Control-Request-Method': 'POST',
                 'Access-Control-Request-Headers': 'authorization,content-type'}
    status, hdrs, body = request(server, 'OPTIONS', '/api/tasks', headers=dict(preflight, Origin=FRONTEND))
    tap(status == 200 and hdrs.get('Access-Control-Allow-Origin') == FRONTEND
        and 'authorization' in hdrs.get('Access-Control-Allow-Headers', '').lower(),
        'a preflight from the CORS_ORIGINS origin is allowed, Authorization included', (status, dict(hdrs)))
    status, hdrs, body = request(server, 'OPTIONS', '/api/tasks', headers=dict(preflight, Origin='http://evil.example'))
    tap(status == 400 and hdrs.get('Access-Control-Allow-Origin') is None,
        'a preflight from another origin is not', (status, dict(hdrs)))
    status, hdrs, body = get('/api/tasks', alice_token, headers={'Origin': FRONTEND})
    tap(status == 200 and hdrs.get('Access-Control-Allow-Origin') == FRONTEND,
        "the frontend's request gets its answer with Access-Control-Allow-Origin", (status, dict(hdrs)))

    # The design's test_list_tasks_authenticated.
    status, _, body = get('/api/tasks', alice_token)
    tap(status == 200 and body == [], 'a signed-in user with no tasks: 200, an empty list', (status, body))

    # The design's test_create_task_with_ownership.
    status, _, task = request(server, 'POST', '/api/tasks', alice_token,
                              {'title': 'Test Task', 'description': 'Test Description'})
    tap(status == 201 and task['user_id'] == alice, "create: 201, user_id is the caller's", (status, task))
    row = one(db, 'SELECT row(user_id, title, description, is_completed)::text FROM taskauth.tasks WHERE id = %s',
              (task['id'],))
    tap(row == '(%s,"Test Task","Test Description",f)' % alice,
        'the row is in taskauth.tasks with her user_id, filled in by the database', row)
    tap(task['is_completed'] is False and task['created_at'] and task['updated_at'],
        'the answer carries what the database filled in (is_completed, created_at, updated_at)', task)

    # The design's test_cannot_access_other_users_tasks, with 404 for 403.
    _, _, a_task = request(server, 'POST', '/api/tasks', alice_token, {'title': 'User A Task'})
    a_id = a_task['id']
    status, _, body = get('/api/tasks/' + a_id, bob_token)
    tap(status == 404 and body == {'detail': 'Task not found'}, "another user's task: 404", (status, body))
    status, _, body = request(server, 'PATCH', '/api/tasks/' + a_id, bob_token, {'title': 'stolen', 'is_completed': True})
    tap(status == 404, "changing another user's task: 404", (status, body))
    status, _, body = request(server, 'DELETE', '/api/tasks/' + a_id, bob_token)
    tap(status == 404, "deleting another user's task: 404", (status, body))
    row = one(db, 'SELECT row(user_id, title, is_completed)::text FROM taskauth.tasks WHERE id = %s', (a_id,))
    tap(row == '(%s,"User A Task",f)' % alice, 'and her task is still there, unchanged', row)
    status, _, body = get('/api/tasks/' + str(uuid.uuid4()), alice_token)
    tap(status == 404 and body == {'detail': 'Task not found'}, 'a task that does not exist: the same 404', (status, body))

    # Lists: each sees only their own.
    request(server, 'POST', '/api/tasks', bob_token, {'title': 'Bob Task'})
    _, _, body = get('/api/tasks', alice_token)
    tap([t['title'] for t in body] == ['Test Task', 'User A Task'] and {t['user_id'] for t in body} == {alice},
        'Alice lists her two tasks, oldest first', body)
    _, _, body = get('/api/tasks', bob_token)
    tap([(t['title'], t['user_id']) for t in body] == [('Bob Task', bob)], 'Bob lists only his', body)

    # get, PATCH, DELETE of one's own.
    status, _, body = get('/api/tasks/' + a_id, alice_token)
    tap(status == 200 and body == a_task, 'get: 200, the task as created', (status, body))
    status, _, body = request(server, 'PATCH', '/api/tasks/' + a_id, alice_token, {'is_completed': True})
    tap(status == 200 and body['is_completed'] is True and body['title'] == 'User A Task'
        and body['description'] is None and when(body['updated_at']) > when(a_task['updated_at']),
        'PATCH {"is_completed": true}: 200, the rest kept, updated_at moved on (the trigger)', (status, body))
    row = one(db, 'SELECT is_completed FROM taskauth.tasks WHERE id = %s', (a_id,))
    tap(row is True, 'the change is committed', row)
    status, hdrs, body = request(server, 'DELETE', '/api/tasks/' + a_id, alice_token)
    tap(status == 204 and body is None, 'delete: 204, no body', (status, body))
    n = one(db, 'SELECT count(*) FROM taskauth.tasks WHERE id = %s', (a_id,))
    tap(n == 0, 'the row is gone', n)
    status, _, body = get('/api/tasks/' + a_id, alice_token)
    tap(status == 404, 'a deleted task: 404', (status, body))

    # Bad input.
    status, _, body = request(server, 'POST', '/api/tasks', alice_token, {'title': '   '})
    tap(status == 422 and 'tasks_title_check' in str(body['detail']),
        "a blank title: 422, the table's check constraint named", (status, body))
    status, _, body = request(server, 'POST', '/api/tasks', alice_token, {'description': 'no title'})
    tap(status == 422 and isinstance(body['detail'], list), 'no title: 422 from validation', (status, body))
    _, _, mine = request(server, 'POST', '/api/tasks', alice_token, {'title': 'Keep me'})
    status, _, body = request(server, 'PATCH', '/api/tasks/' + mine['id'], alice_token, {'title': None})
    tap(status == 422 and 'null value' in str(body['detail']), 'PATCH {"title": null}: 422', (status, body))
    status, _, body = get('/api/tasks/not-a-uuid', alice_token)
    tap(status == 422, 'a task id that is not a uuid: 422', (status, body))

    # Tokens taskauth refuses.
    h, p, s = alice_token.split('.')
    claims = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
    claims['sub'] = bob
    forged = '%s.%s.%s' % (h, b64url(json.dumps(claims).encode()), s)
    status, hdrs, body = get('/api/tasks', forged)
    tap(status == 401 and body == {'detail': 'jwt signature does not match'}
        and hdrs.get('WWW-Authenticate') == 'Bearer error="invalid_token"',
        'a token whose sub was changed: 401, invalid_token, the reason', (status, body, dict(hdrs)))
    status, _, body = get('/api/tasks', 'not.a.jwt')
    tap(status == 401 and str(body['detail']).startswith('jwt '), 'a malformed token: 401', (status, body))
    key = one(db, 'SELECT taskauth.access_token_key(%s)', (SECRET,)).encode()
    now = int(time.time())
    expired = hs256({'alg': 'HS256', 'typ': 'at+jwt'},
                    {'aud': 'taskauth', 'sub': alice, 'iat': now - 7200, 'exp': now - 3600}, key)
    status, _, body = get('/api/tasks', expired)
    tap(status == 401 and body == {'detail': 'jwt expired'}, 'an expired token: 401 "jwt expired"', (status, body))

    # Revoked sessions: logout ends one, logout_everywhere all of the user's.
    second = sign_in(db, 'alice@example.com')
    status, _, _ = get('/api/tasks', second)
    tap(status == 200, "Alice's second session works", status)
    with db.cursor() as cur:
        cur.execute('BEGIN')
        cur.execute('SELECT taskauth.authenticate(%s)', (second,))
        cur.execute('SELECT taskauth.logout()')
        cur.execute('COMMIT')
    r = get('/api/tasks', second)
    tap(revoked(r), 'after taskauth.logout() its token: 401 "token revoked", invalid_token', r[::2])
    status, _, _ = get('/api/tasks', alice_token)
    tap(status == 200, 'her first session still works', status)
    with db.cursor() as cur:
        cur.execute('BEGIN')
        cur.execute('SELECT taskauth.authenticate(%s)', (alice_token,))
        cur.execute('SELECT taskauth.logout_everywhere()')
        ended = cur.fetchone()[0]
        cur.execute('COMMIT')
    r = get('/api/tasks', alice_token)
    tap(ended >= 1 and revoked(r), 'after logout_everywhere() it is refused too', (ended, r[::2]))
    status, _, body = get('/api/tasks', sign_in(db, 'alice@example.com'))
    tap(status == 200 and [t['title'] for t in body] == ['Test Task', 'Keep me'],
        'a new sign-in works, and her tasks are still hers', (status, body))
    status, _, _ = get('/api/tasks', bob_token)
    tap(status == 200, "Bob's session was not touched", status)

    # Better Auth as the issuer: its jwks table read in place, its sessions followed.
    better_auth('migrate')
    one(db, "SELECT taskauth.add_issuer(%s, audience => %s, key_table => 'public.jwks', provision_users => true)",
        (BETTER_AUTH_URL, BETTER_AUTH_URL))
    one(db, "SET client_min_messages = warning")
    one(db, "SELECT taskauth.follow_issuer_sessions('public.session')")
    carol = json.loads(better_auth('sign-up', 'carol@example.com', 'carol-password-123'))
    header = json.loads(base64.urlsafe_b64decode(carol['token'].split('.')[0] + '=='))
    tap(header.get('alg') == 'EdDSA' and header.get('kid'), "Better Auth's token is EdDSA, with the kid of its jwks table",
        header)
    status, _, task = request(server, 'POST', '/api/tasks', carol['token'], {'title': 'Carol Task'})
    tap(status == 201 and task['user_id'] == carol['id'],
        "a Better Auth token creates a task: 201, user_id is the Better Auth user's id", (status, task))
    row = one(db, 'SELECT u.email FROM taskauth.tasks t JOIN taskauth.users u ON u.id = t.user_id WHERE t.id = %s',
              (task['id'],))
    tap(row == 'carol@example.com', 'taskauth provisioned her user row on first sight; the task is hers', row)
    status, _, body = get('/api/tasks', carol['token'])
    tap(status == 200 and [(t['title'], t['user_id']) for t in body] == [('Carol Task', carol['id'])],
        'she lists only her task', (status, body))
    status, _, body = get('/api/tasks/' + mine['id'], carol['token'])
    tap(status == 404, "Alice's task is not there for her: 404", (status, body))
    better_auth('sign-out', carol['cookie'])
    r = get('/api/tasks', carol['token'])
    tap(revoked(r), 'after she signs out of Better Auth, her token: 401 "token revoked"', r[::2])


def run():
    check_excerpts()
    check_line_counts()
    db = connect_as(DB)
    try:
        with db.cursor() as cur:
            cur.execute('CREATE EXTENSION taskauth')
            cur.execute('SELECT taskauth.add_signing_key(%s)', (SECRET,))
            cur.execute('SET taskauth.bcrypt_cost = 4')
            cur.execute(page_block('fastapi-role'))
        tap(one(db, 'SELECT rolcanlogin FROM pg_roles WHERE rolname = %s', (API_ROLE,)) is True,
            "the page's fastapi-role block makes the login role %s; the app logs in as it" % API_ROLE)
        server = Server()
        try:
            ready = server.wait_ready()
            tap(ready, 'uvicorn serves examples/fastapi on %s' % server.url, server.output())
            if ready:
                scenario(server, db)
        finally:
            stopped = server.stop()
            tap(stopped, 'uvicorn stops on SIGTERM')
            log = server.output()
            tap('Traceback' not in log and 'ERROR' not in log, "the server's log shows no error", log)
            os.unlink(server.log.name)
    finally:
        if one(db, 'SELECT 1 FROM pg_roles WHERE rolname = %s', (API_ROLE,)):
            with db.cursor() as cur:
                cur.execute('DROP OWNED BY %s' % API_ROLE)
                cur.execute('DROP ROLE %s' % API_ROLE)
        db.close()


# A SIGTERM (the harness's time limit) unwinds through the finally blocks, so that uvicorn, in a
# process group of its own, is stopped and the database dropped all the same.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
run_with_database(DB, {}, run)
