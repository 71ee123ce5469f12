#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# `make linux` as a user at a terminal does it: run scripts/linux-guest.sh
# on a pseudo-terminal, wait for the guest's shell, type a command and
# `poweroff -f`, and check what comes back.  Prints TAP.
#
#   scripts/linux-shell-test.py [SECONDS]    (default 900: the whole run)

import os
import pty
import select
import sys
import time

TYPED = 'echo $((6*7))-typed\r'
ANSWER = b'42-typed'	# only the guest's shell can compute it


def main():
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 900
    deadline = time.monotonic() + limit
    pid, fd = pty.fork()
    if pid == 0:
        os.execv('scripts/linux-guest.sh', ['scripts/linux-guest.sh'])
    seen = b''
    typed = powered_off = False
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b''
            if not data:
                break
            seen += data
            sys.stdout.write('# ' + data.decode(errors='replace')
                             .replace('\r', '').replace('\n', '\n# ') + '\n')
        if not typed and b'LINUX-GUEST-SHELL' in seen:
            time.sleep(2)
            os.write(fd, TYPED.encode())
            typed = True
        if typed and not powered_off and ANSWER in seen:
            os.write(fd, b'poweroff -f\r')
            powered_off = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print('1..3')
    print('%sok 1 make linux: the guest\'s shell came up on the terminal'
          % ('' if typed else 'not '))
    print('%sok 2 make linux: a command typed at the terminal ran in the guest'
          % ('' if ANSWER in seen else 'not '))
    print('%sok 3 make linux: poweroff -f ended the guest and the VM (exit %d)'
          % ('' if powered_off and code == 0 else 'not ', code))
    return 0 if typed and ANSWER in seen and powered_off and code == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
