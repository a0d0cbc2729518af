"""Prints a free local port in [FIRST, FIRST + 200) for a second throwaway cluster: one no
server's socket in /var/run/postgresql uses and 127.0.0.1 can bind (pg_virtualenv would
otherwise pick the port of the cluster the tests run in). Usage: free_port.py FIRST"""
import os
import socket
import sys

first = int(sys.argv[1])
for p in range(first, first + 200):
    if os.path.exists("/var/run/postgresql/.s.PGSQL.%d" % p):
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
    print(p)
    break
else:
    sys.exit("no free port from %d" % first)
