#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# The terminal end of the test VM's serial port for scripts/vm-run.sh
# --interactive: Bochs serves COM1 on a TCP socket (socket-server mode);
# this connects to it, copies the terminal's keys to the VM and the VM's
# output to the terminal and to the serial log, until Bochs closes the
# socket.  Ctrl-] leaves early (the VM is then stopped by vm-run.sh).
#
#   scripts/serial-relay.py HOST:PORT LOG

import os
import select
import socket
import sys
import termios
import time
import tty

ESCAPE = b'\x1d'	# Ctrl-]


def connect(host, port, seconds=30):
    """Bochs listens only once it has started: try for a while."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection((host, port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def relay(sock, log):
    stdin = sys.stdin.fileno()
    stdout = sys.stdout.fileno()
    watched = [sock, stdin]
    while True:
        ready, _, _ = select.select(watched, [], [])
        if sock in ready:
            data = sock.recv(4096)
            if not data:
                return 0
            os.write(stdout, data)
            log.write(data)
            log.flush()
        if stdin in ready:
            data = os.read(stdin, 1024)
            if not data:
                watched.remove(stdin)	# end of input: keep showing output
                continue
            if ESCAPE in data:
                return 1
            sock.sendall(data)


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: serial-relay.py HOST:PORT LOG')
    host, port = sys.argv[1].rsplit(':', 1)
    sock = connect(host, int(port))
    saved = None
    if os.isatty(sys.stdin.fileno()):
        saved = termios.tcgetattr(sys.stdin.fileno())
        tty.setraw(sys.stdin.fileno())
    try:
        with open(sys.argv[2], 'ab') as log:
            return relay(sock, log)
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


if __name__ == '__main__':
    sys.exit(main())
