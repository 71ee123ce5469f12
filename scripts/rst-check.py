#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Parse each reStructuredText file given with docutils and print every
# warning or error it reports (malformed tables, short title lines, ...).
# Exit status 1 if there was any.  Used by scripts/lint.sh.

import io
import sys

import docutils.core


def check(path):
    err = io.StringIO()
    with open(path, encoding='utf-8') as f:
        docutils.core.publish_doctree(
            f.read(), source_path=path,
            settings_overrides={'warning_stream': err, 'report_level': 2,
                                'halt_level': 5})
    return err.getvalue()


def main():
    bad = 0
    for path in sys.argv[1:]:
        out = check(path)
        if out:
            print(out, end='')
            bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
