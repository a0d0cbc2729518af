"""Throwaway PostgreSQL servers for the interop tests that need one of their own (a primary and
its streaming standby, a server to crash): each lives in a private temporary directory, listens
on 127.0.0.1 and on a socket in that directory, and stop() stops it and removes the directory.
The server refuses to run as root, so under root its commands run as the postgres user. The
binaries are those of the server the suite runs against (PG_CONFIG, as pg_virtualenv sets it).
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg2


def bindir():
    """Where initdb, pg_ctl and pg_basebackup of the server under test live."""
    pg_config = os.environ.get('PG_CONFIG', 'pg_config')
    return subprocess.check_output([pg_config, '--bindir'], text=True).strip()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (start() retries if taken)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=180.0, interval=0.005, what='the condition'):
    """Call cond() until it returns a true value; return (value, seconds waited). Timeouts are
    generous: the machine may be loaded, and nothing here asserts a speed."""
    start = time.monotonic()
    while True:
        value = cond()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError('waited %.0f s for %s' % (timeout, what))
        time.sleep(interval)


class Cluster:
    """One server in its own temporary directory."""

    def __init__(self, name):
        self.root = os.getuid() == 0
        self.owner = pwd.getpwnam('postgres') if self.root else pwd.getpwuid(os.getuid())
        self.dir = tempfile.mkdtemp(prefix='taskauth-%s.' % name)
        os.chmod(self.dir, 0o700)
        if self.root:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        self.data = os.path.join(self.dir, 'data')
        self.logfile = os.path.join(self.dir, 'server.log')
        self.port = None
        self.bin = bindir()

    def run(self, *argv):
        """Run a server program as the cluster's owner; raises with its output on failure."""
        cmd = [os.path.join(self.bin, argv[0])] + list(argv[1:])
        if self.root:
            cmd = ['runuser', '-u', self.owner.pw_name, '--'] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           cwd=self.dir)
        if p.returncode != 0:
            raise RuntimeError('%s failed (%d): %s' % (argv[0], p.returncode, p.stdout[-2000:]))
        return p.stdout

    def init(self, settings=()):
        """initdb a new cluster: superuser postgres trusted on the private socket only, every
        other role by password over 127.0.0.1, replication allowed for a standby."""
        self.run('initdb', '-D', self.data, '-U', 'postgres', '--no-sync', '-A', 'trust',
                 '-E', 'UTF8', '--locale=C')
        with open(os.path.join(self.data, 'pg_hba.conf'), 'w') as f:
            f.write('local all         all trust\n'
                    'local replication all trust\n'
                    'host  all         all 127.0.0.1/32 scram-sha-256\n')
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write("\nlisten_addresses = '127.0.0.1'\n"
                    'shared_buffers = 16MB\n'
                    "password_encryption = 'scram-sha-256'\n")
            for line in settings:
                f.write(line + '\n')

    def init_standby_of(self, primary):
        """pg_basebackup of a running primary, set up (-R) to stream from it as a hot standby.
        The copy carries the primary's configuration; start() gives it its own port and socket."""
        self.run('pg_basebackup', '-d', 'host=%s port=%d user=postgres' % (primary.dir, primary.port),
                 '-D', self.data, '-R', '-X', 'stream', '-c', 'fast')
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write('hot_standby = on\n')

    def start(self):
        """Start on a free port (another one if it was taken meanwhile); waits until the server
        accepts connections."""
        last = None
        for _ in range(5):
            self.port = free_port()
            try:
                self.run('pg_ctl', '-D', self.data, '-l', self.logfile, '-w', '-t', '300',
                         '-o', '-p %d -k %s' % (self.port, self.dir), 'start')
                return
            except RuntimeError as e:
                last = e
        raise last

    def stop(self, remove=True):
        """Stop the server if it runs and remove its directory; never raises."""
        try:
            if os.path.exists(os.path.join(self.data, 'postmaster.pid')):
                self.run('pg_ctl', '-D', self.data, '-m', 'fast', '-w', '-t', '120', 'stop')
        except Exception:
            try:
                self.run('pg_ctl', '-D', self.data, '-m', 'immediate', '-w', 'stop')
            except Exception:
                pass
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=20):
        """The last lines of the server's log, for a failure's diagnostics."""
        try:
            with open(self.logfile, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    def connect(self, dbname='postgres', user=None, password=None, autocommit=True, **kw):
        """A connection: the superuser over the private socket, or a role by password over
        127.0.0.1."""
        if user is None:
            c = psycopg2.connect(host=self.dir, port=self.port, user='postgres', dbname=dbname, **kw)
        else:
            c = psycopg2.connect(host='127.0.0.1', port=self.port, user=user, password=password,
                                 dbname=dbname, **kw)
        c.autocommit = autocommit
        return c
