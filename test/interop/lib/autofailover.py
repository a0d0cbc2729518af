"""A throwaway pg_auto_failover formation for the failover test: a monitor and two nodes on
loopback, set up by docs/high-availability.md's blocks run verbatim, in a private temporary
directory, with pg_autoctl's configuration and state kept there too (HOME and the XDG
directories point into it, so nothing of the postgres user's own is read or written).

pg_autoctl refuses to run as root, as the server does: under root every block and command runs
as the postgres user (runuser), which owns the directory. Each block runs in a session of its
own (setsid), and the `pg_autoctl run` services it starts in the background stay in that session
with the postmasters they start; stop() stops them with the page's own stop block, then kills
whatever of those sessions is left and removes the directory. kill_node() is a crash: SIGKILL of
one node's pg_autoctl processes and its postmaster, all at once.

The test process makes itself a child subreaper: the services the blocks start in the background
are re-parented to it rather than to the machine's init, and a thread reaps them when they die.
A killed postmaster left a zombie otherwise (an init that reaps slowly, as in some containers),
and a zombie's pid in postmaster.pid keeps the node's pg_autoctl from starting PostgreSQL again,
which no real machine's crash does.
"""
import ctypes
import json
import os
import pwd
import signal
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from cluster import bindir

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = 'docs/high-availability.md'


def doc_block(name):
    """The block marked name on docs/high-availability.md, verbatim."""
    return subprocess.check_output(['/usr/bin/python3', os.path.join(HERE, 'doc_blocks.py'),
                                    'block', DOC, name], text=True)


def free_ports(n):
    """The first of n consecutive TCP ports on 127.0.0.1 that nothing listens on now."""
    for base in range(16400, 30000, 7):
        ok = True
        for p in range(base, base + n):
            if os.path.exists('/var/run/postgresql/.s.PGSQL.%d' % p):
                ok = False
                break
            with socket.socket() as s:
                try:
                    s.bind(('127.0.0.1', p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError('no %d free consecutive ports' % n)


def _stat(pid):
    """(ppid, session id) of a process, or None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        if fields[0] == 'Z':
            return None
        return int(fields[1]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def _zombie_of(pid, parent):
    """The command name of pid when it is a zombie child of parent, else None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            head, tail = f.read().rsplit(')', 1)
        fields = tail.split()
        if fields[0] == 'Z' and int(fields[1]) == parent:
            return head.split('(', 1)[1]
    except (OSError, IndexError, ValueError):
        pass
    return None


def _reaper():
    """Reap the formation's dead services (postgres, pg_autoctl) re-parented to this process;
    never the children subprocess waits for itself."""
    me = os.getpid()
    while True:
        for pid in _pids():
            if _zombie_of(pid, me) in ('postgres', 'pg_autoctl', 'pgbouncer', 'bash'):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        time.sleep(0.2)


_reaping = False


def become_subreaper():
    """PR_SET_CHILD_SUBREAPER for this process, and the thread that reaps (once)."""
    global _reaping
    if _reaping:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:     # PR_SET_CHILD_SUBREAPER
        return
    _reaping = True
    threading.Thread(target=_reaper, daemon=True).start()


def _pids():
    return [int(d) for d in os.listdir('/proc') if d.isdigit()]


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')
    except OSError:
        return []


class Formation:
    def __init__(self):
        become_subreaper()
        self.root = os.getuid() == 0
        self.owner = pwd.getpwnam('postgres') if self.root else pwd.getpwuid(os.getuid())
        self.dir = tempfile.mkdtemp(prefix='taskauth-ha.')
        os.chmod(self.dir, 0o700)
        if self.root:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        self.port = free_ports(3)
        self.bin = bindir()
        self.sessions = set()      # session ids of the blocks run: everything started lives there
        self.env = {
            'HA': self.dir, 'PORT': str(self.port), 'PGBIN': self.bin,
            'HOME': self.dir, 'XDG_CONFIG_HOME': os.path.join(self.dir, 'config'),
            'XDG_DATA_HOME': os.path.join(self.dir, 'share'),
            'XDG_RUNTIME_DIR': os.path.join(self.dir, 'run'),
            'PATH': '%s:/usr/bin:/bin' % self.bin, 'LANG': 'C.UTF-8', 'USER': self.owner.pw_name,
        }
        # pg_autoctl keeps its pid files in XDG_RUNTIME_DIR when that exists, else in /tmp
        os.mkdir(self.env['XDG_RUNTIME_DIR'], 0o700)
        if self.root:
            os.chown(self.env['XDG_RUNTIME_DIR'], self.owner.pw_uid, self.owner.pw_gid)

    def node_port(self, n):
        return self.port + n

    def _argv(self, argv):
        if self.root:
            return ['runuser', '-u', self.owner.pw_name, '--'] + argv
        return argv

    def sh(self, script, timeout=240):
        """Run a shell script as the formation's owner, in the formation's environment and
        directory, in a session of its own; returns (exit status, output)."""
        p = subprocess.Popen(self._argv(['env', '-i'] + ['%s=%s' % kv for kv in self.env.items()]
                                        + ['bash', '-e', '-c', script]),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=self.dir, text=True,
                             start_new_session=True)
        self.sessions.add(p.pid)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            return 124, out
        return p.returncode, out

    def block(self, name, timeout=240):
        """Run docs/high-availability.md's sh block name verbatim; (status, output)."""
        return self.sh(doc_block(name), timeout)

    def autoctl(self, *args, timeout=120):
        """pg_autoctl ARGS as the owner; its output, or raises."""
        st, out = self.sh('exec pg_autoctl "$@"' + ''.join(' %s' % _q(a) for a in args), timeout)
        if st != 0:
            raise RuntimeError('pg_autoctl %s failed (%d): %s' % (' '.join(args), st, out[-1500:]))
        return out

    def state(self):
        """{node name: (reported state, assigned state, port)} from the monitor."""
        out = self.autoctl('show', 'state', '--pgdata', os.path.join(self.dir, 'monitor'), '--json')
        nodes = json.loads(out)
        return {n['nodename']: (n['current_group_state'], n['assigned_group_state'], n['nodeport'])
                for n in nodes}

    def primary(self):
        """The name of the node the monitor reports as primary (both states), or None."""
        for name, (rep, asg, _) in self.state().items():
            if rep == asg == 'primary':
                return name
        return None

    def wait_settled(self, timeout=240):
        """Wait until one node is primary and the other secondary, both as assigned; returns
        the primary's name."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            try:
                last = self.state()
                states = sorted((rep, asg) for rep, asg, _ in last.values())
                if states == [('primary', 'primary'), ('secondary', 'secondary')]:
                    return self.primary()
            except (RuntimeError, ValueError) as e:
                last = e
            time.sleep(0.5)
        raise TimeoutError('formation did not settle: %r' % (last,))

    def _node_tree(self, name):
        """The pids of node name's `pg_autoctl run` service, its children and the postmaster."""
        pgdata = os.path.join(self.dir, name).encode()
        top = [pid for pid in _pids()
               if _cmdline(pid)[:4] == [b'pg_autoctl', b'run', b'--pgdata', pgdata]]
        tree = set(top)
        changed = True
        while changed:
            changed = False
            for pid in _pids():
                st = _stat(pid)
                if st and st[0] in tree and pid not in tree:
                    tree.add(pid)
                    changed = True
        try:
            with open(os.path.join(self.dir, name, 'postmaster.pid')) as f:
                tree.add(int(f.readline()))
        except (OSError, ValueError):
            pass
        return sorted(p for p in tree if _stat(p))

    def kill_node(self, name):
        """A crash of node name: its pg_autoctl service and postmaster get SIGSTOP (so that none
        restarts another), then SIGKILL. Returns the pids killed."""
        tree = []
        for _ in range(5):      # stopped processes fork no more: until the tree stops growing
            more = [p for p in self._node_tree(name) if p not in tree]
            if not more:
                break
            for pid in more:
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass
            tree += more
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        t0 = time.monotonic()    # gone (and reaped), as after a machine's crash
        while any(os.path.exists('/proc/%d' % p) for p in tree) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        return tree

    def _daemons(self):
        """The pids of pgbouncer and of the loop that follows the primary, while they run."""
        out = []
        for name in ('follow', 'pgbouncer'):
            try:
                with open(os.path.join(self.dir, name + '.pid')) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if _stat(pid) and os.path.basename(_cmdline(pid)[0]) in (b'bash', b'pgbouncer'):
                out.append(pid)
        return out

    def _leftovers(self):
        return sorted(set(self._daemons()) |
                      {pid for pid in _pids() if (_stat(pid) or (0, 0))[1] in self.sessions})

    def kill_all(self):
        """SIGKILL every process still alive in the sessions this formation started, and
        pgbouncer (a daemon of its own session) and the loop that follows the primary."""
        for pid in self._daemons():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(3):
            left = self._leftovers()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)

    def stop(self, graceful=True):
        """Stop everything (the page's stop block when graceful), kill what is left, remove the
        directory; never raises. Returns the pids that had to be killed."""
        if graceful:
            try:
                self.block('ha-stop', timeout=60)
            except Exception:
                pass
            t0 = time.monotonic()
            while self._leftovers() and time.monotonic() - t0 < 15:
                time.sleep(0.2)
        left = [(pid, b' '.join(_cmdline(pid))[:80].decode(errors='replace')) for pid in self._leftovers()]
        self.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)
        return left

    def log_tail(self, name, lines=15):
        """The last lines of a node's pg_autoctl log, and of its PostgreSQL's newest log."""
        out = ''
        logs = [os.path.join(self.dir, name + '.log')]
        try:
            pglogs = sorted(os.path.join(self.dir, name, 'log', f)
                            for f in os.listdir(os.path.join(self.dir, name, 'log')))
            logs += pglogs[-1:]
        except OSError:
            pass
        for path in logs:
            try:
                with open(path, errors='replace') as f:
                    out += '%s:\n%s' % (os.path.basename(path), ''.join(f.readlines()[-lines:]))
            except OSError:
                pass
        return out


def _q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"
