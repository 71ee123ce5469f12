#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The one TAP parser of `make check`: reads the captured output of every test
# layer (the userspace unit tests and each VM lane), counts passed, failed
# and skipped tests over all of them, names every failure, and ends with the
# line "N passed, N failed, N skipped".  Exits 1 if anything failed.
#
# A layer's output is either plain TAP (one or more "1..N" streams, as
# kselftest prints them) or blocks written by selftests/run_in_vm.sh:
#
#   VMXLAB-TEST-BEGIN <binary>
#   ...kselftest-harness TAP...
#   VMXLAB-TEST-END <binary> rc=<exit status>
#
# Besides its "not ok" lines, a binary (or plain stream) fails once if it
# printed no plan, fewer or more results than its plan, "Bail out!", has a
# BEGIN without an END, or exits non-zero (other than 4, kselftest's "skip")
# without any "not ok" to explain it.  A layer fails once if its command
# exited non-zero and nothing in its output explains it; a VM lane also
# fails once, always, when vm-run.sh reports a kernel warning (exit 2) or a
# VM that never finished (exit 3).

import argparse
import re
import sys

PLAN = re.compile(r'^1\.\.(\d+)\s*(?:#\s*(.*))?$')
RESULT = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
HARNESS_RUN = re.compile(r'^#\s+RUN\s+(\S+)')
BEGIN = re.compile(r'^VMXLAB-TEST-BEGIN\s+(\S+)')
END = re.compile(r'^VMXLAB-TEST-END\s+(\S+)\s+rc=(-?\d+)')

KSFT_SKIP = 4
VM_RUN_VERDICTS = {
    2: 'vm-run found a kernel warning, oops or panic in the VM log',
    3: 'the VM did not finish (timeout, crash or hang)',
}


def vm_run_reason(status, text):
    """Why vm-run.sh failed the lane: its own FAILED line and the kernel
    lines it quoted, else the generic meaning of its exit status."""
    if isinstance(text, Exception):
        return VM_RUN_VERDICTS[status]
    lines = text.splitlines()
    why = [ln[len('vm-run: FAILED: '):] for ln in lines
           if ln.startswith('vm-run: FAILED: ')]
    quoted = [ln[len('vm-run: kernel: '):] for ln in lines
              if ln.startswith('vm-run: kernel: ')]
    if not why:
        return VM_RUN_VERDICTS[status]
    reason = why[-1]
    if quoted:
        more = f' (+{len(quoted) - 3} more)' if len(quoted) > 3 else ''
        reason += ' -- ' + ' | '.join(quoted[:3]) + more
    return reason


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = []        # names of failures
        self.skipped = []       # "name: reason"

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def counts(self):
        return (f'{self.passed} passed, {len(self.failed)} failed, '
                f'{len(self.skipped)} skipped')


class Stream:
    """One TAP stream: a test binary's output."""

    def __init__(self, name):
        self.name = name
        self.plan = None
        self.plan_skip = None
        self.results = 0
        self.bailed = False
        self.tally = Tally()
        self.last_run = None

    def feed(self, line):
        m = PLAN.match(line)
        if m:
            self.plan = int(m.group(1))
            if self.plan == 0 and m.group(2) and \
               m.group(2).upper().startswith('SKIP'):
                self.plan_skip = m.group(2)[4:].strip() or 'skipped'
            return
        m = HARNESS_RUN.match(line)
        if m:
            self.last_run = m.group(1)
            return
        if line.startswith('Bail out!'):
            self.bailed = True
            return
        m = RESULT.match(line)
        if not m:
            return
        self.results += 1
        ok = m.group(1) == 'ok'
        test = m.group(3) or self.last_run or f'test {m.group(2) or self.results}'
        name = f'{self.name}: {test}'
        directive = (m.group(4) or '').strip()
        word = directive.split(' ', 1)[0].upper()
        if word == 'SKIP' or (word == 'TODO' and not ok):
            self.tally.skipped.append(f'{name}: {directive}')
        elif ok:
            self.tally.passed += 1
        else:
            self.tally.failed.append(name)

    def has_plan_or_results(self):
        return self.plan is not None or self.results > 0

    def finish(self, rc=0, ended=True):
        """Close the stream; returns its tally, with a failure for the
        binary itself if something other than a "not ok" went wrong."""
        why = None
        if not ended:
            why = 'BEGIN without END (crashed, hung or killed)'
        elif self.bailed:
            why = 'bailed out'
        elif self.plan_skip is not None and self.results == 0:
            self.tally.skipped.append(f'{self.name}: {self.plan_skip}')
        elif self.plan is None:
            why = 'no TAP plan'
        elif self.results < self.plan:
            why = f'only {self.results} of {self.plan} results'
        elif self.results > self.plan:
            why = f'{self.results} results for a plan of {self.plan}'
        if why is None and rc not in (0, KSFT_SKIP) and not self.tally.failed:
            why = f'exited rc={rc}'
        if why is not None:
            self.tally.failed.append(f'{self.name}: {why}')
        return self.tally


def parse_layer(name, text):
    """Tally one layer's output, block by block or stream by stream."""
    lines = [ln.rstrip('\r\n').replace('\r', '') for ln in text.splitlines()]
    tally = Tally()
    if any(BEGIN.match(ln) for ln in lines):
        cur = None
        for ln in lines:
            m = BEGIN.match(ln)
            if m:
                if cur:
                    tally.add(cur.finish(ended=False))
                cur = Stream(f'{name}: {m.group(1)}')
                continue
            m = END.match(ln)
            if m and cur:
                tally.add(cur.finish(rc=int(m.group(2))))
                cur = None
                continue
            if cur:
                cur.feed(ln)
        if cur:
            tally.add(cur.finish(ended=False))
        return tally

    # Plain TAP: a new stream starts at "TAP version" or at a second plan.
    # It is named after the last word of the comment line just before it
    # ("# unit: ../build/selftests-unit/caps_test" names caps_test), else
    # numbered.
    streams = []
    cur = None
    prev = ''
    for ln in lines:
        starts = ln.startswith('TAP version')
        m = PLAN.match(ln)
        if m and cur and cur.plan is not None:
            starts = True
        if starts or cur is None and (m or RESULT.match(ln)):
            hint = prev.split()[-1].rstrip('/').rsplit('/', 1)[-1] \
                if prev.startswith('#') and len(prev.split()) > 1 else ''
            cur = Stream(f'{name}: {hint or "#" + str(len(streams) + 1)}')
            streams.append(cur)
        if cur:
            cur.feed(ln)
        prev = ln
    for s in streams:
        if s.has_plan_or_results() or s.bailed:
            tally.add(s.finish())
    return tally


def read(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError as e:
        return e


def main():
    ap = argparse.ArgumentParser(description='Count TAP results of make check.')
    ap.add_argument('--layer', nargs=3, action='append', default=[],
                    metavar=('NAME', 'STATUS', 'FILE'),
                    help='output FILE of a test command that exited STATUS')
    ap.add_argument('--vm-lane', nargs=4, action='append', default=[],
                    metavar=('NAME', 'STATUS', 'SECONDS', 'FILE'),
                    help='output FILE of scripts/vm-run.sh, its exit STATUS '
                         'and wall SECONDS')
    args = ap.parse_args()

    total = Tally()
    layers = [(n, s, None, f) for n, s, f in args.layer] + \
             [(n, s, t, f) for n, s, t, f in args.vm_lane]
    for name, status, seconds, path in layers:
        status = int(status)
        text = read(path)
        if isinstance(text, Exception):
            tally = Tally()
            tally.failed.append(f'{name}: no output ({text})')
        else:
            tally = parse_layer(name, text)
        if seconds is not None and status in VM_RUN_VERDICTS:
            tally.failed.append(f'{name}: {vm_run_reason(status, text)}')
        elif status != 0 and not tally.failed:
            tally.failed.append(f'{name}: exited with status {status}'
                                ' and no failing test to explain it')
        elif status == 0 and tally.passed + len(tally.failed) + \
                len(tally.skipped) == 0:
            tally.failed.append(f'{name}: no test results at all')
        line = f'tap-summary: {name}: {tally.counts()}'
        if seconds is not None:
            line += f' ({seconds} s wall, vm-run exit {status})'
        print(line)
        total.add(tally)

    for s in total.skipped:
        print(f'  skipped: {s}')
    for f in total.failed:
        print(f'  FAILED: {f}')
    print(total.counts())
    return 1 if total.failed else 0


if __name__ == '__main__':
    sys.exit(main())
