#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The rows unwind_table must compile for an object, from another reader.

    cfi_expect.py [--debug-frame] [--entry] OBJECT > OBJECT.cfi

readelf prints every FDE's rows as binutils interprets them; llvm-dwarfdump
only spells out the expressions readelf shows as "exp" (LLVM 14 loses the
CFA across DW_CFA_restore_state, so it cannot be the reference). This maps
each row to the walker's rules (bpf/events.h) the way the compiler must, and
applies the same table rules: FDEs that start in an executable segment,
in pc order, the later-starting of two overlapping ones kept inside its
range, a gap row after an FDE the next one does not start at, equal
neighbours merged; the byte before the function makecontext writes as a
context's first return address outermost, where it names (by a
rip-relative lea, as objdump decodes it) the start of an FDE after a gap;
with --entry (an object processes start in: a
program, or its interpreter) an entry point in a gap is outermost up to
its first jump or return, as objdump decodes it. The first line is
'# OBJECT' (the path, as given), then one line per row: pc (hex) cfa_type
cfa_off rbp_type rbp_off, as tests/unit/test_unwind_table.c reads them.
"""
import re
import subprocess
import sys

CFA_UNDEFINED, CFA_RSP, CFA_RBP, CFA_DEREF_RBP, CFA_PLT, CFA_SIGNAL, \
    CFA_UNSUPPORTED, CFA_NO_INFO = range(8)
RBP_SAME, RBP_CFA, RBP_AT_RBP, RBP_UNDEFINED = range(4)

PLT = re.compile(r'DW_OP_breg7 RSP\+8, DW_OP_breg16 RIP\+0, DW_OP_lit15, '
                 r'DW_OP_and, DW_OP_lit1([01]), DW_OP_ge, DW_OP_lit3, '
                 r'DW_OP_shl, DW_OP_plus$')
DEREF = re.compile(r'DW_OP_breg6 RBP([+-]\d+), DW_OP_deref$')


def segments(obj):
    """Executable PT_LOAD [start, end) ranges."""
    out = subprocess.run(['readelf', '-lW', obj], check=True,
                         capture_output=True, text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == 'LOAD' and 'E' in ''.join(f[6:-1]):
            start = int(f[2], 16)
            segs.append((start, start + int(f[5], 16)))
    return segs


# The compiler does not run a program that names a register x86-64 does
# not have (libdw would allocate for every number up to it); readelf
# drops such a rule, llvm-dwarfdump shows it as regN.
MAX_REG = 128


def llvm_exprs(obj, section):
    """{(fde start, pc): (cfa text, {reg: rule})} from llvm-dwarfdump, and
    the FDEs (by start) whose programs the compiler refuses."""
    out = subprocess.run(['llvm-dwarfdump', '--' + section, obj], check=True,
                         capture_output=True, text=True).stdout
    rows, fde, refused = {}, None, set()
    for line in out.splitlines():
        m = re.match(r'[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ '
                     r'pc=([0-9a-f]+)', line)
        if m:
            fde = int(m.group(1), 16)
            continue
        m = re.match(r'  0x([0-9a-f]+): CFA=([^:]*): ?(.*)', line)
        if m and fde is not None:
            regs = {}
            for r in re.finditer(r'(\w+)=(\[[^\]]*\]|[^,]+)(?:, |$)',
                                 m.group(3)):
                regs[r.group(1)] = r.group(2)
            rows[(fde, int(m.group(1), 16))] = (m.group(2), regs)
            if any(re.match(r'reg(\d+)$', r) and int(r[3:]) >= MAX_REG
                   for r in regs):
                refused.add(fde)
    return rows, refused


def expr(exprs, fde, pc, reg):
    """An 'exp' column of readelf, spelled out by llvm-dwarfdump."""
    cfa, regs = exprs[(fde, pc)]
    return cfa if reg == 'CFA' else regs.get(reg.upper())


def cfa_rule(cfa):
    m = re.match(r'(rsp|rbp)([+-]\d+)$', cfa)
    if m:
        return CFA_RSP if m.group(1) == 'rsp' else CFA_RBP, int(m.group(2))
    m = DEREF.match(cfa)
    if m:
        return CFA_DEREF_RBP, int(m.group(1))
    m = PLT.match(cfa)
    if m:
        return CFA_PLT, 10 + int(m.group(1))
    return None


def rbp_rule(rule):
    # readelf prints 'u' for a column this FDE has not set yet: the ABI's
    # rule for a callee-saved register, same value
    if rule is None or rule in ('u', 's'):
        return RBP_SAME, 0
    m = re.match(r'c([+-]\d+)$', rule)
    if m:
        return RBP_CFA, int(m.group(1))
    m = re.match(r'\[DW_OP_breg6 RBP([+-]\d+)\]$', rule)
    if m:
        return RBP_AT_RBP, int(m.group(1))
    return RBP_UNDEFINED, 0


def row(cols, signal, exprs, fde, pc):
    """One readelf row as {column: value} -> the walker's rule."""
    if signal:
        return (CFA_SIGNAL, 0, RBP_SAME, 0)
    if cols.get('ra') == 'u':
        return (CFA_UNDEFINED, 0, RBP_SAME, 0)
    cfa = cols['CFA']
    if cfa == 'exp':
        cfa = expr(exprs, fde, pc, 'CFA')
    c = cfa_rule(cfa)
    if cols.get('ra') != 'c-8' or c is None or not -2**31 <= c[1] < 2**31:
        return (CFA_UNSUPPORTED, 0, RBP_SAME, 0)
    rbp = cols.get('rbp')
    if rbp == 'exp':
        rbp = expr(exprs, fde, pc, 'rbp')
    return c + rbp_rule(rbp)


def fdes(obj, section):
    """[(start, end, signal, [(pc, {column: value})])] from readelf."""
    # readelf exits 1 on objects it reads whole (Debian's libc): the
    # output is what counts, and an empty one finds no FDE
    out = subprocess.run(['readelf', '--debug-dump=frames-interp', obj],
                         capture_output=True, text=True).stdout
    name = '.' + section.replace('-', '_')
    found, cies, cur, cols, inside = [], {}, None, [], False
    for line in out.splitlines():
        if line.startswith('Contents of the '):
            inside = line.startswith('Contents of the %s ' % name)
            cur = None
            continue
        if not inside:
            continue
        m = re.match(r'([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE "(.*)"', line)
        if m:
            cur = {'signal': 'S' in m.group(2), 'rows': []}
            cies[int(m.group(1), 16)] = cur
            continue
        m = re.match(r'[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) '
                     r'pc=([0-9a-f]+)\.\.([0-9a-f]+)', line)
        if m:
            cie = cies[int(m.group(1), 16)]
            cur = {'signal': cie['signal'], 'rows': [],
                   'start': int(m.group(2), 16), 'end': int(m.group(3), 16),
                   'cie': cie}
            found.append(cur)
            continue
        # a register rule prints as 'r9 (r9)': one column
        f = re.sub(r' \(\w+\)', '', line).split()
        if cur is None or not f:
            continue
        if f[0] == 'LOC':
            cols = f[1:]
        elif re.match(r'[0-9a-f]{16}$', f[0]) and len(f) == len(cols) + 1:
            cur['rows'].append((int(f[0], 16), dict(zip(cols, f[1:]))))
    for fd in found:
        # an FDE without instructions is its CIE's initial row
        rows = fd['rows'] or [(fd['start'], fd['cie']['rows'][-1][1])]
        yield fd['start'], fd['end'], fd['signal'], rows


# objdump's mnemonics after which the code does not fall through, and the
# prefixes it may print before one.
ENDS = {'jmp', 'jmpq', 'ljmp', 'ret', 'retq', 'lret', 'iret', 'iretq',
        'hlt', 'ud2'}
PREFIXES = {'bnd', 'notrack', 'rep', 'repz', 'repnz', 'data16', 'cs', 'ds'}
ENTRY_MAX_BYTES = 256


def entry_rule(obj, segs, table):
    """The table with the entry point's code outermost, when no FDE
    covers it: from e_entry to its first jump or return, as objdump
    decodes it (the compiler's entry_rule(), with Capstone)."""
    hdr = subprocess.run(['readelf', '-hW', obj], check=True,
                         capture_output=True, text=True).stdout
    entry = int(re.search(r'Entry point address:\s+0x([0-9a-f]+)',
                          hdr).group(1), 16)
    seg = [s for s in segs if s[0] <= entry < s[1]]
    if not entry or not seg:
        return table
    below = [r for r in table if r[0] <= entry]
    if below and below[-1][1] != CFA_NO_INFO:
        return table
    above = [r[0] for r in table if r[0] > entry]
    gap_end = above[0] if above and above[0] < seg[0][1] else seg[0][1]
    dis = subprocess.run(['objdump', '-d', '--insn-width=15',
                          '--start-address=%#x' % entry,
                          '--stop-address=%#x' %
                          min(gap_end, entry + ENTRY_MAX_BYTES), obj],
                         check=True, capture_output=True, text=True).stdout
    run_end = None
    for line in dis.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$',
                     line)
        if not m:
            continue
        words = [w for w in m.group(3).split() if w not in PREFIXES]
        if words and words[0] in ENDS:
            run_end = int(m.group(1), 16) + len(m.group(2).split())
            break
    if run_end is None:
        return table
    out = []

    def push(r):
        if not out or out[-1][1:] != r[1:]:
            out.append(r)

    done = False
    for r in table + [None]:
        if not done and (r is None or r[0] >= entry):
            done = True
            push((entry, CFA_UNDEFINED, 0, RBP_SAME, 0))
            if run_end < gap_end:
                push((run_end, CFA_NO_INFO, 0, RBP_SAME, 0))
        if r is not None and r[0] != entry:
            push(r)
    return out


def splice(table, at, r):
    """The table with the one row r from at, equal neighbours merged."""
    out = []
    for t in sorted([t for t in table if t[0] != at] + [(at,) + r],
                    key=lambda x: x[0]):
        if not out or out[-1][1:] != t[1:]:
            out.append(t)
    return out


def context_rule(obj, table):
    """The table with the byte before makecontext's return target
    outermost (the compiler's context_rule()): a function whose first
    byte a rip-relative lea of makecontext names, an FDE's start with
    no rule in the byte before it."""
    syms = subprocess.run(['readelf', '--dyn-syms', '-sW', obj], check=True,
                          capture_output=True, text=True).stdout
    fn = None
    for line in syms.splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == 'FUNC' and f[6] != 'UND' and \
                f[7].split('@')[0] == 'makecontext':
            fn = (int(f[1], 16), int(f[2], 0))
            break
    if not fn or not fn[1] or fn[1] > CONTEXT_MAX_BYTES:
        return table
    dis = subprocess.run(['objdump', '-d', '--start-address=%#x' % fn[0],
                          '--stop-address=%#x' % (fn[0] + fn[1]), obj],
                         check=True, capture_output=True, text=True).stdout
    for m in re.finditer(r'\tlea\s+-?0x[0-9a-f]+\(%rip\),%\w+\s+# ([0-9a-f]+)',
                         dis):
        start = int(m.group(1), 16)
        at = [r for r in table if r[0] <= start]
        before = [r for r in table if r[0] <= start - 1]
        if not at or at[-1][0] != start or at[-1][1] == CFA_NO_INFO or \
                (before and before[-1][1] != CFA_NO_INFO):
            continue
        table = splice(table, start - 1, (CFA_UNDEFINED, 0, RBP_SAME, 0))
    return table


CONTEXT_MAX_BYTES = 4096


def main():
    args = [a for a in sys.argv[1:] if a not in ('--debug-frame', '--entry')]
    if len(args) != 1:
        sys.exit('usage: cfi_expect.py [--debug-frame] [--entry] OBJECT')
    obj = args[0]
    section = 'debug-frame' if '--debug-frame' in sys.argv else 'eh-frame'
    segs = segments(obj)
    keep = []
    exprs, refused = llvm_exprs(obj, section)
    for start, end, signal, rows in fdes(obj, section):
        seg = [s for s in segs if s[0] <= start < s[1]]
        if end <= start or not seg:
            continue
        keep.append((start, min(end, seg[0][1]), signal, rows))
    # longest first among equal starts: that one is kept
    keep.sort(key=lambda f: (f[0], -f[1]))
    table = []

    def push(pc, r):
        if not table or table[-1][1:] != r:
            table.append((pc,) + r)

    for i, (start, end, signal, rows) in enumerate(keep):
        if i and start == keep[i - 1][0]:
            continue
        nxt = keep[i + 1][0] if i + 1 < len(keep) else None
        stop = end if nxt is None else min(end, nxt)
        for pc, cols in rows:
            if pc >= stop:
                break
            if start in refused:
                push(pc, (CFA_UNSUPPORTED, 0, RBP_SAME, 0))
            else:
                push(pc, row(cols, signal, exprs, start, pc))
        if stop != nxt:
            push(stop, (CFA_NO_INFO, 0, RBP_SAME, 0))
    if not table:
        sys.exit('cfi_expect.py: no rows in %s of %s' % (section, obj))
    table = context_rule(obj, table)
    if '--entry' in sys.argv:
        table = entry_rule(obj, segs, table)
    print('# ' + obj)
    for r in table:
        print('%x %d %d %d %d' % r)


if __name__ == '__main__':
    main()
