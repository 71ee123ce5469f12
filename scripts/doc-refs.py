#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# The documentation must not point at code that is gone.  Reads
# Documentation/*.rst and README and checks two kinds of reference:
#
#   name()                 a function: some C, assembly, Python or shell
#                          source of the tree must define it
#   vmx/exits.c, scripts/  a path into the repository (it starts with one
#                          of the tree's top-level directories): it must
#                          exist; a glob must match something; a program
#                          (tools/vmxlab-stat, also as built in tools/out/)
#                          must have its NAME.c; a bare "name.rst" must be
#                          in Documentation/
#
# trace_NAME() and trace_NAME_enabled() count as defined by
# TRACE_EVENT(NAME, ...), as the kernel's tracepoint macros define them.
#
# Functions (and paths, and documents) of Linux, libc and other projects
# that the documents mention are listed in scripts/doc-refs.allow, one a
# line, each with the reason.
# Prints each stale reference as FILE:LINE: ... and exits 1 if there is
# any.  --root DIR checks another tree (the self-test uses it).

import argparse
import glob
import os
import re
import sys

TOP_DIRS = ('vmx', 'mmu', 'irq', 'include', 'scripts', 'selftests', 'tools',
            'Documentation', 'debian')
SKIP_DIRS = {'.git', 'build', 'out'}
SOURCE_EXTS = ('.c', '.h', '.S', '.py', '.sh')
ALLOW = 'scripts/doc-refs.allow'

FUNC_REF_RE = re.compile(r'(?<![\w.>$-])([A-Za-z_]\w*)\(\)')
PATH_REF_RE = re.compile(
    r'(?<![\w/.~$-])((?:' + '|'.join(TOP_DIRS) + r')/[\w./*+-]*)')
RST_REF_RE = re.compile(r'(?<![\w/.-])([\w-]+\.rst)\b')

DEF_PATTERNS = (
    # C: a definition starts in column 0 and names itself before "(".
    r'^[A-Za-z_][\w \t*]*?\b{name}\s*\(',
    r'^{name}\s*\(',
    r'^#\s*define\s+{name}\b',
    # Assembly: SYM_FUNC_START(name), SYM_INNER_LABEL(name, ...), labels.
    r'^\s*SYM_[A-Z_]+\(\s*{name}\b',
    r'^{name}:',
    # A label in a C file's top-level asm() string (selftests/lib).
    r'^\s*"{name}:',
    # Python and shell.
    r'^\s*def\s+{name}\s*\(',
    r'^\s*(?:function\s+)?{name}\s*\(\)\s*\{{?',
    r'^\s*function\s+{name}\b',
)
TRACE_RE = re.compile(r'^trace_(\w+?)(?:_enabled)?$')


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.endswith(SOURCE_EXTS):
                yield path
            elif '.' not in name and os.access(path, os.X_OK):
                yield path      # scripts without an extension


def defined_names(root, wanted):
    """The names of @wanted that some source of the tree defines."""
    if not wanted:
        return set()
    # Tracepoints: look for TRACE_EVENT(name) as well.
    events = {}
    for w in wanted:
        m = TRACE_RE.match(w)
        if m:
            events.setdefault(m.group(1), set()).add(w)
    alt = '|'.join(sorted(re.escape(w) for w in wanted | set(events)))
    patterns = [re.compile(p.format(name=f'(?P<n{i}>{alt})'), re.M)
                for i, p in enumerate(DEF_PATTERNS)]
    patterns.append(re.compile(rf'^\s*TRACE_EVENT\(\s*(?P<n{len(patterns)}>'
                               rf'{alt})\s*,', re.M))
    found = set()
    for path in source_files(root):
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError:
            continue
        for i, p in enumerate(patterns):
            for m in p.finditer(text):
                line_end = text.find('\n', m.end())
                line = text[m.start():line_end if line_end >= 0 else None]
                # A prototype or a call statement is not a definition.
                if i < 2 and line.rstrip().endswith(';'):
                    continue
                found.add(m.group(f'n{i}'))
    for event, names in events.items():
        if event in found:
            found |= names
    return found


def read_allow(root, errors):
    allowed = set()
    try:
        with open(os.path.join(root, ALLOW), encoding='utf-8') as f:
            lines = f.read().split('\n')
    except OSError:
        return allowed
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        name, _, why = line.partition('#')
        if not why.strip():
            errors.append(f'{ALLOW}:{n}: {name.strip()}: say why it is '
                          f'allowed ("name  # reason")')
        name = name.strip()
        allowed.add(name[:-2] if name.endswith('()') else name)
    return allowed


def documents(root):
    docs = sorted(glob.glob(os.path.join(root, 'Documentation', '*.rst')))
    readme = os.path.join(root, 'README')
    if os.path.exists(readme):
        docs.append(readme)
    return docs


def path_exists(root, ref, allowed):
    ref = ref.rstrip('.,:;')
    if ref in allowed or ref.rstrip('/') in allowed:
        return True
    if any(c in ref for c in '*?['):
        return bool(glob.glob(os.path.join(root, ref)))
    if os.path.exists(os.path.join(root, ref)):
        return True
    # A program: built from NAME.c, into DIR/out/ when built.
    src = ref.replace('/out/', '/') + '.c'
    return os.path.exists(os.path.join(root, src))


def main():
    ap = argparse.ArgumentParser(description='Check that the documentation '
                                 'refers only to functions and paths that '
                                 'exist.')
    ap.add_argument('--root', default=os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    root = args.root

    errors = []
    allowed = read_allow(root, errors)
    funcs = []      # (doc, line, name)
    for doc in documents(root):
        rel = os.path.relpath(doc, root)
        with open(doc, encoding='utf-8') as f:
            lines = f.read().split('\n')
        for n, line in enumerate(lines, 1):
            for m in FUNC_REF_RE.finditer(line):
                if m.group(1) not in allowed:
                    funcs.append((rel, n, m.group(1)))
            for m in PATH_REF_RE.finditer(line):
                if not path_exists(root, m.group(1), allowed):
                    errors.append(f'{rel}:{n}: {m.group(1).rstrip(".,:;")}: '
                                  f'no such path in the tree')
            for m in RST_REF_RE.finditer(line):
                if m.start() > 0 and line[m.start() - 1] == '/':
                    continue
                if m.group(1) not in allowed and not os.path.exists(
                        os.path.join(root, 'Documentation', m.group(1))):
                    errors.append(f'{rel}:{n}: {m.group(1)}: no such '
                                  f'document in Documentation/')
    defined = defined_names(root, {name for _, _, name in funcs})
    for rel, n, name in funcs:
        if name not in defined:
            errors.append(f'{rel}:{n}: {name}(): defined nowhere in the '
                          f'tree (gone, renamed, or external: then list it '
                          f'in {ALLOW})')
    for e in errors:
        print(f'doc-refs: {e}')
    if errors:
        print(f'doc-refs: {len(errors)} stale reference(s)')
        return 1
    print(f'doc-refs: {len(documents(root))} documents, '
          f'{len(funcs)} function references, no stale one')
    return 0


if __name__ == '__main__':
    sys.exit(main())
