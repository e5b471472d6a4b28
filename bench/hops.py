#!/usr/bin/env python3
"""Cuts the time of one QD1 read into hops, from the traces of `make hops`
(guest/hops.sh): per configuration the median, p90 and mean of each hop and
of the whole I/O; writes hops.md and hops.json.

Usage: hops.py DIR        (DIR/configs.txt, DIR/env.txt, and per configuration
                           DIR/<config>/meta.txt, trace.txt.gz, trace.raw.gz,
                           fio.json, fio-untraced.json, or `skipped`;
                           writes DIR/hops.md and DIR/hops.json)
       hops.py --self-test (synthetic traces; exit 1 if a check fails)

At QD1 one I/O is in flight: the events between an io_uring submit and its
CQE are that I/O's, in time order. An I/O counts only if its events come in
the expected order, each once, and agree with each other (the CQE is the
submitted request's, each disk's completion is the bio it queued, all are
reads); the others are dropped and counted by reason.
"""
import gzip
import json
import math
import re
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

# The events of one I/O, in their order (guest/hops.sh enables only these).
MARKS = "SQIBDCF"
MARK_TEXT = {
    "S": "io_uring:io_uring_submit_req",
    "Q": "block:block_bio_queue on the device",
    "I": "kprobe on the device's worker",
    "B": "block:block_bio_queue on null_blk",
    "D": "block:block_rq_complete on null_blk",
    "C": "block_bio_complete (bio-based) or block_rq_complete (blk-mq) on the device",
    "F": "io_uring:io_uring_complete",
}
MARK_SHORT = {
    "S": "submit",
    "Q": "device queue",
    "I": "worker start",
    "B": "null_blk queue",
    "D": "null_blk done",
    "C": "device done",
    "F": "CQE",
}
# letter, from, to, what happens in between
HOPS = [
    ("a", "S", "Q", "application submit → bio queued on the device"),
    ("b", "Q", "I", "bio queued → the worker starts it"),
    ("c", "I", "B", "worker start → backing bio queued"),
    ("d", "B", "D", "backing bio queued → backing bio complete"),
    ("e", "D", "C", "backing bio complete → the device's bio complete"),
    ("f", "C", "F", "the device's bio complete → the application's CQE"),
]
LETTERS = [h[0] for h in HOPS]
DROP_REASONS = {
    "incomplete": "incomplete (a new submit, or the end of the trace, before the CQE)",
    "out_of_order": "out of order (an event not the next one expected, such as an xfs metadata write on null_blk during the I/O)",
    "mismatch": "events that disagree (request, device, sector or direction)",
}
OVERHEAD_NOTE = (
    "All times include the tracing overhead: each event and kprobe costs "
    "some time on the path it measures (more under TCG than on hardware). "
    "fio's mean latency with and without tracing is shown beside them."
)

TEXT_RE = re.compile(
    r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:\S+\s+)?(?P<sec>\d+)\.(?P<usec>\d{6}):\s+(?P<event>\w+):\s?(?P<body>.*)$"
)
RAW_RE = re.compile(r"^(?P<pid>\d+) (?P<cpu>\d+) (?P<ns>\d+) type: (?P<type>\d+)\s*$")
URING_RE = re.compile(r"ring (\S+), req (\S+), user_data (0x[0-9a-f]+), (?:opcode (\S+),|result (-?\d+),)")
BLOCK_RE = re.compile(r"^(\d+),(\d+) (\S+) (?:\(.*?\) )?(\d+) \+ (\d+)")
BLOCK_ERR_RE = re.compile(r"\[(-?\d+)\]\s*$")


class Event:
    __slots__ = ("ns", "name", "pid", "cpu", "f", "mark")

    def __init__(self, ns, name, pid, cpu, f):
        self.ns, self.name, self.pid, self.cpu, self.f = ns, name, pid, cpu, f
        self.mark = None


def parse_body(name: str, body: str) -> dict:
    if name.startswith("io_uring_"):
        m = URING_RE.search(body)
        if not m:
            return {}
        f = {"ring": m[1], "req": m[2], "user_data": m[3]}
        if m[4] is not None:
            f["opcode"] = m[4]
        if m[5] is not None:
            f["res"] = int(m[5])
        return f
    if name.startswith("block_"):
        m = BLOCK_RE.match(body)
        if not m:
            return {}
        f = {"dev": f"{m[1]}:{m[2]}", "rwbs": m[3], "sector": int(m[4]), "nr": int(m[5])}
        e = BLOCK_ERR_RE.search(body)
        if e and name.endswith("_complete"):
            f["error"] = int(e[1])
        return f
    return {}


def read_lines(path: Path) -> list:
    with gzip.open(path, "rt", errors="replace") as fh:
        return [ln.rstrip("\n") for ln in fh if ln.strip() and not ln.startswith("#")]


def load_events(cdir: Path, event_ids: dict, notes: list) -> list:
    """The events of one run. Timestamps are the raw read's nanoseconds when it
    lines up with the text read of the same buffer, else the text's µs."""
    text = read_lines(cdir / "trace.txt.gz")
    raw_path = cdir / "trace.raw.gz"
    raw = read_lines(raw_path) if raw_path.exists() else None
    id_name = {v: k for k, v in event_ids.items()}
    events = []
    bad_lines = 0
    for ln in text:
        m = TEXT_RE.match(ln)
        if not m:
            bad_lines += 1
            continue
        us = int(m["sec"]) * 1_000_000 + int(m["usec"])
        events.append(
            Event(us * 1000, m["event"], int(m["pid"]), int(m["cpu"]), parse_body(m["event"], m["body"]))
        )
    if bad_lines:
        notes.append(f"{bad_lines} trace line(s) not understood, ignored")
    why = None
    if raw is None:
        why = "no raw trace"
    elif bad_lines or len(raw) != len(events):
        why = f"the raw trace has {len(raw) if raw else 0} lines, the text {len(text)}"
    else:
        stamps = []
        for i, (ev, ln) in enumerate(zip(events, raw)):
            m = RAW_RE.match(ln)
            if not m:
                why = f"raw line {i + 1} not understood"
                break
            ns = int(m["ns"])
            if (
                int(m["pid"]) != ev.pid
                or int(m["cpu"]) != ev.cpu
                or id_name.get(int(m["type"])) != ev.name
                or abs((ns + 500) // 1000 - ev.ns // 1000) > 1
            ):
                why = f"line {i + 1} of the raw trace is not line {i + 1} of the text"
                break
            stamps.append(ns)
        if why is None:
            for ev, ns in zip(events, stamps):
                ev.ns = ns
    if why:
        notes.append(f"timestamps in µs from the text trace ({why})")
    return events


def read_meta(path: Path) -> dict:
    meta = {"overrun": {}, "event_id": {}, "notes": []}
    for ln in path.read_text().splitlines():
        key, _, value = ln.partition(" ")
        if key == "overrun":
            cpu, _, n = value.partition(" ")
            meta["overrun"][int(cpu.removeprefix("cpu"))] = int(n or 0)
        elif key == "event_id":
            name, _, n = value.partition(" ")
            meta["event_id"][name] = int(n)
        elif key == "note":
            meta["notes"].append(value)
        else:
            meta[key] = value
    return meta


def marks_of(meta: dict) -> str:
    """The marks one configuration's I/Os pass, in order."""
    top = meta.get("top_dev", "-") != "-"
    worker = meta.get("worker_event", "-") != "-"
    return "".join(m for m in MARKS if (m not in "QC" or top) and (m != "I" or worker))


def spans_of(marks: str) -> list:
    """(label, letters, from, to) for each pair of consecutive marks: a hop
    whose ends were not traced is measured together with its neighbours."""
    out = []
    for a, b in zip(marks, marks[1:]):
        ia, ib = MARKS.index(a), MARKS.index(b)
        letters = [h[0] for h in HOPS if MARKS.index(h[1]) >= ia and MARKS.index(h[2]) <= ib]
        label = letters[0] if len(letters) == 1 else f"{letters[0]}–{letters[-1]}"
        out.append((label, letters, a, b))
    return out


def classify(ev: Event, meta: dict) -> None:
    dev = ev.f.get("dev")
    if ev.name == "io_uring_submit_req":
        ev.mark = "S"
    elif ev.name == "io_uring_complete":
        ev.mark = "F"
    elif ev.name == "block_bio_queue":
        ev.mark = "Q" if dev == meta.get("top_dev") else "B" if dev == meta.get("backing_dev") else None
    elif ev.name in ("block_bio_complete", "block_rq_complete"):
        ev.mark = "C" if dev == meta.get("top_dev") else "D" if dev == meta.get("backing_dev") else None
    elif ev.name == meta.get("worker_event"):
        ev.mark = "I"


def is_read(ev: Event) -> bool:
    rwbs = ev.f.get("rwbs", "")
    return "R" in rwbs and "W" not in rwbs


def agrees(io: dict) -> bool:
    s, f = io["S"], io["F"]
    if not s.f.get("opcode", "").startswith("READ") or f.f.get("res", -1) <= 0:
        return False
    if (s.f.get("req"), s.f.get("user_data")) != (f.f.get("req"), f.f.get("user_data")):
        return False
    for q, c in (("Q", "C"), ("B", "D")):
        if q not in io:
            continue
        if (io[q].f.get("dev"), io[q].f.get("sector")) != (io[c].f.get("dev"), io[c].f.get("sector")):
            return False
        if not (is_read(io[q]) and is_read(io[c])) or io[c].f.get("error", 0) != 0:
            return False
    return True


def sequence(events: list, marks: str):
    """The I/Os whose events came in order, and the counts of the others."""
    ios, drops, other = [], Counter(), Counter()
    cur, want, broken = None, 0, False
    for ev in events:
        if ev.mark is None:
            other["unrelated"] += 1
            continue
        if ev.mark == "S":
            if cur is not None and not broken:
                drops["incomplete"] += 1
            cur, want, broken = {"S": ev}, 1, False
            continue
        if cur is None:
            other["outside"] += 1
            continue
        if broken:
            continue
        if ev.mark != marks[want]:
            drops["out_of_order"] += 1
            broken = True
            continue
        cur[ev.mark] = ev
        want += 1
        if want == len(marks):
            if agrees(cur):
                ios.append(cur)
            else:
                drops["mismatch"] += 1
            cur = None
    if cur is not None and not broken:
        drops["incomplete"] += 1
    return ios, drops, other


def stats(values_ns: list) -> dict:
    v = sorted(values_ns)
    if not v:
        return {"median_us": None, "p90_us": None, "mean_us": None}
    p90 = v[max(0, math.ceil(0.9 * len(v)) - 1)]  # nearest rank
    return {
        "median_us": round(statistics.median(v) / 1000, 2),
        "p90_us": round(p90 / 1000, 2),
        "mean_us": round(statistics.fmean(v) / 1000, 2),
    }


def fio_summary(path: Path):
    if not path.exists():
        return None
    text = path.read_text()
    doc = json.loads(text[text.index("{"):])
    read = doc["jobs"][0]["read"]
    return {"iops": round(read["iops"]), "lat_mean_us": round(read["lat_ns"]["mean"] / 1000, 1), "ios": read["total_ios"]}


def trim_overrun(events: list, meta: dict, notes: list) -> list:
    """A CPU whose buffer overran lost its oldest events: keep only the time
    every such CPU still covers."""
    lost = [cpu for cpu, n in meta["overrun"].items() if n > 0]
    if not lost:
        return events
    first = {}
    for ev in events:
        first.setdefault(ev.cpu, ev.ns)
    start = max(first.get(cpu, 0) for cpu in lost)
    kept = [ev for ev in events if ev.ns >= start]
    notes.append(
        f"trace buffer overran on CPU {', '.join(map(str, lost))}: "
        f"{len(events) - len(kept)} events before {start / 1e9:.6f} s ignored"
    )
    return kept


def analyse(cdir: Path) -> dict:
    meta = read_meta(cdir / "meta.txt")
    notes = list(meta["notes"])
    events = load_events(cdir, meta["event_id"], notes)
    events = trim_overrun(events, meta, notes)
    for ev in events:
        classify(ev, meta)
    marks = marks_of(meta)
    ios, drops, other = sequence(events, marks)
    hops = []
    for label, letters, a, b in spans_of(marks):
        hops.append(
            {"hop": label, "letters": letters, "from": MARK_SHORT[a], "to": MARK_SHORT[b]}
            | stats([io[b].ns - io[a].ns for io in ios])
        )
    return {
        "label": meta.get("label", cdir.name),
        "status": "ok",
        "polled": meta.get("polled", "0") != "0",
        "worker_event": meta.get("worker_event", "-"),
        "worker_symbol": meta.get("worker_symbol"),
        "worker_kprobe": meta.get("worker_kprobe"),
        "marks": marks,
        "ios": len(ios),
        "dropped": {k: drops.get(k, 0) for k in DROP_REASONS},
        "events_outside_ios": other.get("outside", 0),
        "events_unrelated": other.get("unrelated", 0),
        "hops": hops,
        "total": stats([io["F"].ns - io["S"].ns for io in ios]),
        "fio_traced": fio_summary(cdir / "fio.json"),
        "fio_untraced": fio_summary(cdir / "fio-untraced.json"),
        "notes": notes,
    }


def read_env(path: Path) -> dict:
    env = {}
    if path.exists():
        for ln in path.read_text().splitlines():
            key, _, value = ln.partition(" ")
            env[key] = value
    return env


def summarise(d: Path) -> dict:
    configs = {}
    for ln in (d / "configs.txt").read_text().splitlines():
        name, status, label = (ln.split(" ", 2) + ["", ""])[:3]
        cdir = d / name
        if status == "ok":
            configs[name] = analyse(cdir)
        else:
            why = cdir / ("skipped" if status == "skipped" else "failed")
            configs[name] = {
                "label": label,
                "status": status,
                "reason": why.read_text().strip() if why.exists() else "",
            }
    return {"env": read_env(d / "env.txt"), "configs": configs, "note": OVERHEAD_NOTE}


def fmt(v) -> str:
    return "–" if v is None else f"{v:.1f}"


def table_row(name: str, c: dict, key: str) -> str:
    cells = {}
    for h in c["hops"]:
        cells[h["letters"][0]] = fmt(h[key]) if len(h["letters"]) == 1 else f"{fmt(h[key])} ({h['hop']})"
        for covered in h["letters"][1:]:
            cells[covered] = "·"
    row = [name, str(c["ios"])] + [cells.get(x, "") for x in LETTERS] + [fmt(c["total"][key])]
    return "| " + " | ".join(row) + " |"


def kprobe_kind(line) -> str:
    """What /sys/kernel/debug/kprobes/list said of the kprobe while enabled."""
    if not line:
        return ""
    if "[OPTIMIZED]" in line:
        return ", optimized (a jump)"
    if "[DISABLED]" in line or "[GONE]" in line or "not listed" in line:
        return f" ({line.strip()})"
    return ", a breakpoint trap (not optimized)"


def markdown(s: dict) -> str:
    env, configs = s["env"], s["configs"]
    out = ["# Hops of one I/O: 4k random read at QD1", ""]
    out.append(
        "fio, io_uring, one job, `--direct=1`, "
        f"{env.get('runtime_s', '?')} s or {env.get('max_ios', '?')} I/Os per run, "
        f"on a {env.get('file_mb', '?')} MiB file on xfs on {env.get('backing', 'null_blk')}; "
        f"kernel {env.get('kernel', '?')}, {env.get('cpus', '?')} CPUs, QEMU TCG; "
        f"trace clock {env.get('trace_clock', '?')} on the {env.get('clocksource', '?')} clocksource."
    )
    out += ["", f"**{s['note']}**", ""]
    out += ["| hop | what | from event | to event |", "| --- | --- | --- | --- |"]
    for letter, a, b, text in HOPS:
        out.append(f"| {letter} | {text} | {MARK_TEXT[a]} | {MARK_TEXT[b]} |")
    out += [
        "",
        "A hop whose ends are not traced in a configuration (the raw file has no "
        "device of its own; a worker function with no symbol has no kprobe) is "
        "measured with its neighbours: the value stands in its first letter's "
        "column with the letters it spans, `·` in the others. Total: submit to "
        "CQE of each I/O (not the sum of the medians).",
        "",
    ]
    ran = {n: c for n, c in configs.items() if c["status"] == "ok"}
    for key, title in (("median_us", "Median"), ("p90_us", "p90")):
        out += [f"## {title} per hop (µs)", ""]
        out.append("| configuration | I/Os | " + " | ".join(LETTERS) + " | total |")
        out.append("| --- | ---: | " + " | ".join("---:" for _ in LETTERS) + " | ---: |")
        out += [table_row(n, c, key) for n, c in ran.items()]
        out.append("")
    out += ["## fio's view (mean latency, µs, and IOPS)", ""]
    out += ["| configuration | traced lat | untraced lat | traced IOPS | untraced IOPS |", "| --- | ---: | ---: | ---: | ---: |"]
    for n, c in ran.items():
        t, u = c["fio_traced"] or {}, c["fio_untraced"] or {}
        out.append(
            f"| {n} | {fmt(t.get('lat_mean_us'))} | {fmt(u.get('lat_mean_us'))} "
            f"| {t.get('iops', '–')} | {u.get('iops', '–')} |"
        )
    out.append("")
    out += ["## Each configuration", ""]
    for n, c in configs.items():
        out.append(f"### {n}: {c['label']}")
        out.append("")
        if c["status"] != "ok":
            out += [f"{c['status'].capitalize()}: {c.get('reason', '')}", ""]
            continue
        dropped = ", ".join(f"{v} {DROP_REASONS[k]}" for k, v in c["dropped"].items() if v) or "none"
        out.append(
            f"I/Os measured: {c['ios']}, {len(c['marks'])} events each; dropped: {dropped}; "
            f"events between I/Os: {c['events_outside_ios']}."
        )
        if c["worker_event"] != "-":
            out.append(f"Worker start: kprobe on `{c['worker_symbol'] or c['worker_event']}`{kprobe_kind(c.get('worker_kprobe'))}.")
        for note in c["notes"]:
            out.append(f"Note: {note}.")
        out += ["", "| hop | from → to | median | p90 | mean |", "| --- | --- | ---: | ---: | ---: |"]
        for h in c["hops"]:
            out.append(
                f"| {h['hop']} | {h['from']} → {h['to']} | {fmt(h['median_us'])} | {fmt(h['p90_us'])} | {fmt(h['mean_us'])} |"
            )
        t = c["total"]
        out += [f"| total | submit → CQE | {fmt(t['median_us'])} | {fmt(t['p90_us'])} | {fmt(t['mean_us'])} |", ""]
    return "\n".join(out)


def report(d: Path) -> dict:
    s = summarise(d)
    (d / "hops.json").write_text(json.dumps(s, indent=1, ensure_ascii=False) + "\n")
    (d / "hops.md").write_text(markdown(s) + "\n")
    return s


# --- Self-test ----------------------------------------------------------------

IDS = {
    "io_uring_submit_req": 1402,
    "io_uring_complete": 1401,
    "block_bio_queue": 1376,
    "block_bio_complete": 1372,
    "block_rq_complete": 1365,
    "rloop_issue": 2231,
}
NULLB, RLOOP = "251:0", "259:0"


class Synth:
    """Writes a trace as guest/hops.sh saves it: text and raw, line for line."""

    def __init__(self):
        self.lines = []  # (ns, pid, cpu, comm, name, body)

    def add(self, ns, name, body, pid=146, cpu=1, comm="fio"):
        self.lines.append((ns, pid, cpu, comm, name, body))

    def io(self, t, n, d, marks="SQIBDCF", sector=8, bsector=200, req="00000000100fea8c", cres=4096):
        """One I/O starting at t ns, hop durations d (dict letter -> ns); marks
        names the events written, in order. Returns the time of the last."""
        at = {"S": t}
        for letter, a, b, _ in HOPS:
            at[b] = at[a] + d.get(letter, 0)
        k = 28
        ring = "00000000e6332e45"
        ev = {
            "S": ("io_uring_submit_req", f"ring {ring}, req {req}, user_data 0x55b2, opcode READ, flags 0x200000, sq_thread 0", 146, 1, "fio"),
            "Q": ("block_bio_queue", f"259,0 R {sector} + 8 [fio]", 146, 1, "fio"),
            "I": ("rloop_issue", "(_RNvNtCs_11rloop_crate9rloop_bio5issue+0x0/0x450 [rloop])", k, 0, "kworker/u10:0"),
            "B": ("block_bio_queue", f"251,0 R {bsector} + 8 [kworker/u10:0]", k, 0, "kworker/u10:0"),
            "D": ("block_rq_complete", f"251,0 R () {bsector} + 8 be,0,4 [0]", k, 0, "kworker/u10:0"),
            "C": ("block_bio_complete", f"259,0 R {sector} + 8 [0]", k, 0, "kworker/u10:0"),
            "F": ("io_uring_complete", f"ring {ring}, req {req}, user_data 0x55b2, result {cres}, cflags 0x0 extra1 0 extra2 0 ", 146, 1, "fio"),
        }
        for m in marks:
            name, body, pid, cpu, comm = ev[m]
            self.add(at[m], name, body, pid, cpu, comm)
        return at["F"]

    def write(self, cdir: Path, meta: dict, drop_raw_line=None):
        cdir.mkdir(parents=True)
        lines = sorted(self.lines, key=lambda x: x[0])
        text = [
            f"{comm:>16}-{pid:<7} [{cpu:03d}] ..... {(ns + 500) // 1000 // 1_000_000:5d}.{(ns + 500) // 1000 % 1_000_000:06d}: {name}: {body}"
            for ns, pid, cpu, comm, name, body in lines
        ]
        raw = [f"{pid} {cpu} {ns} type: {IDS[name]}" for ns, pid, cpu, comm, name, body in lines]
        if drop_raw_line is not None:
            del raw[drop_raw_line]
        for fname, ls in (("trace.txt.gz", text), ("trace.raw.gz", raw)):
            with gzip.open(cdir / fname, "wt") as fh:
                fh.write("\n".join(ls) + "\n")
        m = dict(meta)
        m.setdefault("backing_dev", NULLB)
        body = [f"{k} {v}" for k, v in m.items() if k not in ("overrun",)]
        body += [f"overrun cpu{c} {n}" for c, n in m.get("overrun", {0: 0, 1: 0}).items()]
        body += [f"event_id {k} {v}" for k, v in IDS.items()]
        (cdir / "meta.txt").write_text("\n".join(body) + "\n")


def self_test() -> int:
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got!r}, want {want!r}")

    # Hop durations of I/O i, in ns: a cycles 10.0-10.9 µs (median 10.45,
    # p90 by nearest rank 10.8), the others fixed but for d, sub-µs.
    def d(i):
        return {"a": 10_000 + 100 * (i % 10), "b": 50_000, "c": 7_000, "d": 1_234, "e": 2_000, "f": 3_000}

    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        lines = []

        # rloop, worker kprobe, 100 good I/Os plus one of each fault.
        s, t = Synth(), 1_000_000_000
        for i in range(100):
            t = s.io(t, i, d(i)) + 5_000
        t = s.io(t, 0, d(0), marks="SQIBDC") + 5_000  # no CQE before the next submit
        t = s.io(t, 0, d(0) | {"d": -1_000}) + 5_000  # backing completion before its queue
        t = s.io(t, 0, d(0), sector=16) + 5_000  # the device completes another sector...
        s.lines[-2] = s.lines[-2][:5] + ("259,0 R 24 + 8 [0]",)  # ...in its C event
        s.add(t, "block_bio_queue", "251,0 WS 99 + 8 [xfsaild]", pid=7, cpu=0, comm="xfsaild")  # between I/Os
        t = s.io(t + 5_000, 0, d(0), cres=-5) + 5_000  # the read failed
        s.io(t, 0, d(0), marks="SQIB")  # the trace ends mid-I/O
        s.write(top / "rloop", {"config": "rloop", "label": "rloop", "top_dev": RLOOP, "worker_event": "rloop_issue"})
        lines.append("rloop ok rloop")

        # rloop with no kprobe: b and c as one hop.
        s, t = Synth(), 1_000_000_000
        for i in range(20):
            t = s.io(t, i, d(i), marks="SQBDCF") + 5_000
        s.write(top / "noworker", {"config": "noworker", "label": "rloop, inlined issue", "top_dev": RLOOP, "worker_event": "-"})
        lines.append("noworker ok rloop, inlined issue")

        # The raw file: S B D F.
        s, t = Synth(), 1_000_000_000
        for i in range(20):
            t = s.io(t, i, d(i), marks="SBDF") + 5_000
        s.write(top / "raw", {"config": "raw", "label": "the file", "top_dev": "-", "worker_event": "-"})
        lines.append("raw ok the file")

        # A raw trace that does not line up: µs timestamps, and said so.
        s, t = Synth(), 1_000_000_000
        for i in range(20):
            t = s.io(t, i, d(i)) + 5_000
        s.write(top / "misaligned", {"config": "misaligned", "label": "x", "top_dev": RLOOP, "worker_event": "rloop_issue"}, drop_raw_line=3)
        lines.append("misaligned ok x")

        # CPU 0 overran: its first events are gone, the time before them is cut.
        s, t = Synth(), 1_000_000_000
        for i in range(30):
            t = s.io(t, i, d(i)) + 5_000
        first_cpu0 = [ln for ln in s.lines if ln[2] == 0][8]  # I/O 2's I event
        s.lines = [ln for ln in s.lines if ln[2] != 0 or ln[0] >= first_cpu0[0]]
        s.write(top / "overrun", {"config": "overrun", "label": "y", "top_dev": RLOOP, "worker_event": "rloop_issue", "overrun": {0: 5, 1: 0}})
        lines.append("overrun ok y")

        (top / "skipped").mkdir()
        (top / "skipped" / "skipped").write_text("no /sys/block/rloop0/rloop/linger_us: the module has no per-device linger knob\n")
        lines.append("skipped skipped rloop, lingering worker off")
        (top / "configs.txt").write_text("\n".join(lines) + "\n")
        (top / "env.txt").write_text("kernel 6.12.117\ncpus 2\nclocksource tsc\ntrace_clock global\n")

        s = report(top)
        c = s["configs"]

        r = c["rloop"]
        check("rloop: I/Os", r["ios"], 100)
        check("rloop: dropped", r["dropped"], {"incomplete": 2, "out_of_order": 1, "mismatch": 2})
        check("rloop: events between I/Os", r["events_outside_ios"], 1)
        check("rloop: hop labels", [h["hop"] for h in r["hops"]], list("abcdef"))
        check("rloop: a median", r["hops"][0]["median_us"], 10.45)
        check("rloop: a p90", r["hops"][0]["p90_us"], 10.8)
        check("rloop: a mean", r["hops"][0]["mean_us"], 10.45)
        check("rloop: b median", r["hops"][1]["median_us"], 50.0)
        check("rloop: d median (sub-µs from the raw trace)", r["hops"][3]["median_us"], 1.23)
        check("rloop: total median", r["total"]["median_us"], 73.68)
        check("rloop: total p90", r["total"]["p90_us"], 74.03)
        check("rloop: notes", r["notes"], [])

        nw = c["noworker"]
        check("noworker: hop labels", [h["hop"] for h in nw["hops"]], ["a", "b–c", "d", "e", "f"])
        check("noworker: b–c median", nw["hops"][1]["median_us"], 57.0)
        check("noworker: dropped", sum(nw["dropped"].values()), 0)

        raw = c["raw"]
        check("raw: hop labels", [h["hop"] for h in raw["hops"]], ["a–c", "d", "e–f"])
        check("raw: a–c median", raw["hops"][0]["median_us"], 67.45)
        check("raw: e–f median", raw["hops"][2]["median_us"], 5.0)
        check("raw: I/Os", raw["ios"], 20)

        mis = c["misaligned"]
        check("misaligned: I/Os", mis["ios"], 20)
        check("misaligned: said so", any("µs from the text trace" in n for n in mis["notes"]), True)
        check("misaligned: d from whole µs", 1.0 <= mis["hops"][3]["median_us"] <= 2.0 and mis["hops"][3]["median_us"] * 2 % 1 == 0, True)

        ov = c["overrun"]
        check("overrun: I/Os (the first three cut)", ov["ios"], 27)
        check("overrun: I/O 2's events after the cut are between I/Os", ov["events_outside_ios"], 5)
        check("overrun: said so", any("overran on CPU 0" in n for n in ov["notes"]), True)
        check("overrun: nothing dropped", sum(ov["dropped"].values()), 0)

        check("skipped: status", c["skipped"]["status"], "skipped")
        check("kprobe optimized", kprobe_kind("ffffffffc0414010  k  issue+0x0  rloop [OPTIMIZED]"), ", optimized (a jump)")
        check("kprobe trap", kprobe_kind("ffffffffc0414010  k  issue+0x0  rloop"), ", a breakpoint trap (not optimized)")
        md = (top / "hops.md").read_text()
        check("md: says tracing overhead", "include the tracing overhead" in md, True)
        check("md: gives the skip reason", "no per-device linger knob" in md, True)
        check("md: merged hop in the table", "| raw | 20 | 67.5 (a–c) | · | · | 1.2 | 5.0 (e–f) | · |" in md, True)
        check("json: readable", json.loads((top / "hops.json").read_text())["configs"]["rloop"]["ios"], 100)

    for f in failures:
        print(f"FAIL hops self-test: {f}")
    print(f"hops self-test: {'FAILED' if failures else 'ok'} ({len(failures)} failure(s))")
    return 1 if failures else 0


def main(argv: list) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
