#!/usr/bin/env python3
"""A lint gate for the BPF objects: loops that 5.10 and 6.1 refuse at load.

Their check_cfg() accepts a back-edge (a jump to an instruction still on its
depth-first walk: a loop) only from a jump instruction. clang sometimes lays a
bounded loop out so that it is closed by a plain fall-through into its head;
the kernel then refuses the whole object ("back-edge from insn N to N+1")
before verifying anything, which only a VM boot of those kernels would show.
This walks every section of each object given (llvm-objdump's disassembly) the
same way and names such edges. Exit status 1 where it finds one."""
import re
import subprocess
import sys


def sections(obj):
    text = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", obj],
                          capture_output=True, text=True, check=True).stdout
    found, current = {}, None
    for line in text.splitlines():
        header = re.match(r"Disassembly of section (\S+):", line)
        if header:
            current = found.setdefault(header.group(1), [])
            continue
        insn = re.match(r"\s+(\d+):\s+(.*)", line)
        if insn and current is not None:
            current.append((int(insn.group(1)), insn.group(2)))
    return found


def successors(number, text, following):
    """(target, by_jump) for each edge out of an instruction."""
    if text.startswith("exit"):
        return []
    jump = re.match(r"goto ([+-]\d+)", text)
    if jump:
        return [(number + int(jump.group(1)) + 1, True)]
    branch = re.match(r"if .* goto ([+-]\d+)", text)
    if branch:
        return [(following, True), (number + int(branch.group(1)) + 1, True)]
    return [(following, False)]


def refused_edges(insns):
    position = {number: i for i, (number, _) in enumerate(insns)}
    edges = {}
    for i, (number, text) in enumerate(insns):
        following = insns[i + 1][0] if i + 1 < len(insns) else None
        edges[number] = [(t, j) for t, j in successors(number, text, following) if t in position]
    state, refused = {}, []
    for start, _ in insns:  # every instruction is an entry: programs and subprograms
        if start in state:
            continue
        state[start] = "open"
        stack = [(start, iter(edges[start]))]
        while stack:
            node, out = stack[-1]
            for target, by_jump in out:
                if state.get(target) == "open":
                    if not by_jump:
                        refused.append((node, target))
                elif target not in state:
                    state[target] = "open"
                    stack.append((target, iter(edges[target])))
                    break
            else:
                state[node] = "done"
                stack.pop()
    return refused


def main():
    bad = 0
    for obj in sys.argv[1:]:
        for name, insns in sections(obj).items():
            for node, target in refused_edges(insns):
                print(f"{obj}: section {name}: loop closed by a fall-through, insn {node} -> {target}")
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
