#!/usr/bin/python3
"""The documentation's code blocks and the checks that keep every one of them tested.

A fenced block of README.md or docs/*.md is preceded, on the line right above its fence, by a
marker:

    <!-- readme-test: NAME -->        a test runs (or checks) this block
    <!-- readme-untested: REASON -->  no test does, and why (never for sql, sh or bash)

A test claims the blocks it runs with a comment line of its own source:

    # readme-blocks: PAGE NAME NAME ...     (or // in JavaScript)

Commands (paths are relative to the checkout, TASKAUTH_ROOT or two levels up from here):

    block PAGE NAME    print the block marked NAME on PAGE, as it stands (exit 2: no such block)
    conf PAGE NAME     the block's "name = value" lines as name=value, comments and quotes gone
    require FILE       every block FILE claims exists (exit 1 and name the missing ones)
    markers PAGE...    every block carries a marker; sql, sh and bash ones a readme-test one
    claims PAGE...     every readme-test marker is claimed by a test, every claim has a block
    toc PAGE...        each page's table of contents lists its ## and ### headings, in order
    links PAGE...      every relative link leads to a file, and every #anchor to a heading there
"""
import glob
import os
import re
import sys

ROOT = os.environ.get('TASKAUTH_ROOT') or os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
RUN_LANGS = {'sql', 'sh', 'bash', 'shell', 'console', 'psql'}
MARK_TEST = re.compile(r'^<!-- readme-test: ([A-Za-z0-9_.-]+) -->$')
MARK_UNTESTED = re.compile(r'^<!-- readme-untested: (.+) -->$')
FENCE_OPEN = re.compile(r'^ {0,3}```(\S*)\s*$')
FENCE_CLOSE = re.compile(r'^ {0,3}```\s*$')
HEADING = re.compile(r'^(#{1,6}) +(.*?) *#*$')
CLAIM = re.compile(r'^\s*(?:#|//)\s*readme-blocks:\s*(\S+)\s+(.+?)\s*$')
TEST_FILES = ['test/interop/*.sh', 'test/interop/*.py', 'test/interop/*.mjs', 'test/http/*.mjs']


def read(page):
    with open(os.path.join(ROOT, page), encoding='utf-8') as f:
        return f.read().split('\n')


def blocks(page):
    """(line number, language, marker line or None, text) of each fenced block on page."""
    lines, out, i = read(page), [], 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not FENCE_CLOSE.match(lines[j]):
            j += 1
        marker = lines[start - 1] if start > 0 else ''
        out.append((start + 1, lang, marker, '\n'.join(lines[start + 1:j]) + '\n'))
        i = j + 1
    return out


def prose(page):
    """The page's lines outside fenced blocks, with their numbers."""
    inside = False
    for n, line in enumerate(read(page), 1):
        if FENCE_OPEN.match(line) and not inside:
            inside = True
        elif inside and FENCE_CLOSE.match(line):
            inside = False
        elif not inside:
            yield n, line


def slug(text):
    """The anchor GitHub gives a heading."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')


def headings(page):
    """(level, text, anchor) of each heading, anchors made unique as GitHub does."""
    seen, out = {}, []
    for _, line in prose(page):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append((len(m.group(1)), m.group(2), base if k == 0 else f'{base}-{k}'))
    return out


def claims():
    """{(page, name): claiming file} over every test file."""
    out = {}
    for pattern in TEST_FILES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path, encoding='utf-8') as f:
                for line in f:
                    m = CLAIM.match(line)
                    if m:
                        for name in m.group(2).split():
                            out[(m.group(1), name)] = os.path.relpath(path, ROOT)
    return out


def find(page, name):
    for _, _, marker, text in blocks(page):
        m = MARK_TEST.match(marker)
        if m and m.group(1) == name:
            return text
    return None


def check_markers(pages):
    problems = []
    for page in pages:
        names = {}
        for n, lang, marker, _ in blocks(page):
            t, u = MARK_TEST.match(marker), MARK_UNTESTED.match(marker)
            where = f'{page}:{n} (```{lang})'
            if not t and not u:
                problems.append(f'{where}: no <!-- readme-test: NAME --> marker on the line above')
            elif u and lang in RUN_LANGS:
                problems.append(f'{where}: a {lang} block must be run: readme-untested is only for other blocks')
            elif t:
                if t.group(1) in names:
                    problems.append(f'{where}: the name {t.group(1)} is taken by line {names[t.group(1)]}')
                names[t.group(1)] = n
            if lang == '':
                problems.append(f'{where}: the block names no language')
    return problems


def check_claims(pages):
    problems, claimed = [], claims()
    marked = set()
    for page in pages:
        for n, lang, marker, _ in blocks(page):
            t = MARK_TEST.match(marker)
            if t:
                marked.add((page, t.group(1)))
                if (page, t.group(1)) not in claimed:
                    problems.append(f'{page}:{n}: block {t.group(1)} is claimed by no test ("readme-blocks: {page} {t.group(1)}")')
    for (page, name), test in sorted(claimed.items()):
        if page in pages and (page, name) not in marked:
            problems.append(f'{test} claims {page} {name}, which has no such block')
    return problems


def expected_toc(page):
    return [('' if level == 2 else '  ') + f'- [{text}](#{anchor})'
            for level, text, anchor in headings(page) if level in (2, 3)]


def check_toc(pages):
    problems = []
    for page in pages:
        lines = read(page)
        try:
            a, b = lines.index('<!-- toc -->'), lines.index('<!-- /toc -->')
        except ValueError:
            problems.append(f'{page}: no table of contents between <!-- toc --> and <!-- /toc -->')
            continue
        first = next((n for n, line in prose(page) if HEADING.match(line) and line.startswith('## ')), None)
        if first is not None and first <= b:
            problems.append(f'{page}: the table of contents is not at the top (before the first ## heading)')
        got = [line for line in lines[a + 1:b] if line.strip()]
        want = expected_toc(page)
        if got != want:
            problems.append(f'{page}: the table of contents should read:\n' + '\n'.join(want))
    return problems


LINK = re.compile(r'\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)')


def check_links(pages):
    problems, anchors = [], {}
    for page in pages:
        for n, line in prose(page):
            for target in LINK.findall(line):
                if re.match(r'^[a-z]+:', target):
                    continue
                path, _, anchor = target.partition('#')
                dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                if not os.path.exists(os.path.join(ROOT, dest)):
                    problems.append(f'{page}:{n}: {target}: no file {dest}')
                    continue
                if anchor and dest.endswith('.md'):
                    if dest not in anchors:
                        anchors[dest] = {h[2] for h in headings(dest)}
                    if anchor not in anchors[dest]:
                        problems.append(f'{page}:{n}: {target}: {dest} has no heading #{anchor}')
    return problems


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == 'block' or cmd == 'conf':
        text = find(args[0], args[1])
        if text is None:
            print(f'{args[0]} has no block marked readme-test: {args[1]}', file=sys.stderr)
            sys.exit(2)
        if cmd == 'block':
            sys.stdout.write(text)
            return
        for line in text.split('\n'):
            line = re.sub(r'\s+#.*$', '', line).strip()
            m = re.match(r'^([A-Za-z0-9_.-]+)\s*=\s*(.*)$', line)
            if m:
                print(f"{m.group(1)}={m.group(2).strip().strip(chr(34)).strip(chr(39))}")
        return
    if cmd == 'require':
        rel = os.path.relpath(os.path.abspath(args[0]), ROOT)
        missing = [f'{p} {n}' for (p, n), test in claims().items() if test == rel and find(p, n) is None]
        if missing:
            print('no block marked readme-test: ' + ', '.join(sorted(missing)))
            sys.exit(1)
        return
    check = {'markers': check_markers, 'claims': check_claims, 'toc': check_toc, 'links': check_links}[cmd]
    problems = check(args)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main(sys.argv)
