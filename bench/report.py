#!/usr/bin/env python3
"""Summarises a `make bench` run: medians and min-max per backing, profile and
target; the ratios rloop/raw, rloop/loop and loop/raw paired by repetition
(the targets of one repetition run back to back), their median and min-max,
and whether the whole range lies above or below 1; a markdown report and an
SVG chart.

Usage: report.py RUN_DIR     (RUN_DIR/<backing>/<profile>.<target>.<rep>.json,
                              .cpu beside each, env.txt per backing; the
                              VM's console in RUN_DIR/vm-<backing>/ if kept)
       report.py --self-test (synthetic runs, checks the outputs)
"""
import json
import re
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# name, label, the I/O size (CPU per I/O is only comparable within one size,
# and an I/O that ext4 and its fsyncs carry is not a raw 4k one), and what
# fio does (as guest/bench.sh runs it).
PROFILES = [
    ("rr4k_qd32", "4k randread QD32", "4k", "io_uring, O_DIRECT, random 4k reads, QD32"),
    ("rr4k_qd1", "4k randread QD1", "4k", "the same at QD1: completions by interrupt"),
    ("rw4k_qd32", "4k randwrite QD32", "4k", "random 4k writes, QD32, the file preconditioned"),
    ("sr1m_qd8", "1M read QD8", "1M", "sequential 1M reads, QD8"),
    ("sw1m_qd8", "1M write QD8", "1M", "sequential 1M writes, QD8"),
    ("rr4k_qd32_2j", "4k randread QD32, 2 jobs", "4k", "two fio jobs at QD32 each"),
    ("rr4k_qd1_hipri", "4k randread QD1, polled", "4k",
     "io_uring IOPOLL (--hipri), QD1, on the targets whose device can poll "
     "(null_blk has 2 poll queues); 6.12 fails polled I/O on the others "
     "(loop, virtio-blk without poll queues) with EOPNOTSUPP: n/a there"),
    ("rw4k_sparse_qd32", "4k randwrite QD32, sparse", "4k",
     "random 4k writes, QD32, on a sparse file made afresh per target and "
     "repetition: the writes allocate"),
    ("rr4k_qd32_md", "4k randread QD32, md raid0", "4k",
     "md raid0 (64K chunks) over two loop or two rloop devices on two "
     "preconditioned files, random 4k reads, QD32; no raw target"),
    ("ext4_fsync", "ext4 4k randwrite, fsync/8", "4k on ext4",
     "ext4 on the loop or the rloop device, fio psync (QD1, buffered) random 4k "
     "writes to a 256M file in it, fsync every 8 writes; I/Os are fio's writes; "
     "no raw target"),
]
TARGETS = ["raw", "loop", "rloop"]
# Profiles that stack something on a block device: the raw file has no place.
NO_RAW = {"rr4k_qd32_md", "ext4_fsync"}


def no_raw_text() -> str:
    names = [p for p, _, _, _ in PROFILES if p in NO_RAW]
    return " and ".join(names) + (" has" if len(names) == 1 else " have") + " no raw target"


# key in "ratios", numerator, denominator, metric. A ratio is taken per
# repetition (the targets of one repetition run back to back, so pairing them
# cancels what drifts between repetitions); reported are the median and the
# min-max of those.
RATIOS = [
    ("rloop/raw", "rloop", "raw", "iops"),
    ("rloop/loop", "rloop", "loop", "iops"),
    ("loop/raw", "loop", "raw", "iops"),
    ("cpu rloop/loop", "rloop", "loop", "cpu_us_per_io"),
    # The floor of the one above: rloop does the raw file's direct I/O and
    # more, so its CPU per I/O cannot go below raw's.
    ("cpu raw/loop", "raw", "loop", "cpu_us_per_io"),
]
METRICS = ("iops", "bw_mib", "lat_us", "p99_us", "cpu_us_per_io", "linger_us_per_io",
           "ios_per_wakeup")
BACKING_TEXT = {
    "nullb": "a file on xfs on null_blk (memory-backed)",
    "virtio": "a file on xfs on a virtio-blk disk",
}
# Percent by which repetitions of one target typically differ under TCG
# (earlier runs); each run's own spread is printed beside it.
TCG_SPREAD = 30


def one_run(json_path: Path) -> dict:
    doc = json.loads(json_path.read_text())
    job = doc["jobs"][0]
    ios = 0
    bw = 0.0
    lat_mean = []
    p99 = []
    for d in ("read", "write"):
        part = job[d]
        if part["total_ios"] == 0:
            continue
        ios += part["total_ios"]
        bw += part["bw_bytes"]
        lat_mean.append(part["lat_ns"]["mean"] / 1000)
        # Total latency (submission + completion), as the mean: with the raw file on
        # null_blk most of an I/O happens at submission, which clat leaves out.
        pct = part["lat_ns"].get("percentile") or part["clat_ns"].get("percentile", {})
        if "99.000000" in pct:
            p99.append(pct["99.000000"] / 1000)
    runtime_s = job["job_runtime"] / 1000 if job.get("job_runtime") else None
    # System-wide busy CPU time over the job, per I/O: loop's and rloop's
    # workers are kernel threads that fio's own CPU figures never see. Runs
    # from before the harness wrote .cpu files have none.
    cpu = None
    cpu_file = json_path.with_suffix(".cpu")
    if cpu_file.exists() and ios:
        busy, _total, hz = (int(x) for x in cpu_file.read_text().split())
        cpu = busy * 1e6 / hz / ios
    # rloop's linger counters before and after the job (hits, misses, µs
    # lingered): how much of its CPU went to lingering.
    # The wake-ups (a fourth column, where the module counts them): I/Os per
    # wake-up of a worker.
    linger = ios_per_wakeup = None
    linger_file = json_path.with_suffix(".linger")
    if linger_file.exists() and ios:
        lines = [[int(x) for x in ln.split()] for ln in linger_file.read_text().splitlines()]
        if len(lines) == 2:
            linger = (lines[1][2] - lines[0][2]) / ios
            if len(lines[0]) > 3 and lines[1][3] > lines[0][3]:
                ios_per_wakeup = ios / (lines[1][3] - lines[0][3])
    opts = job.get("job options", {})
    return {
        "iops": (job["read"]["iops"] + job["write"]["iops"]),
        "bw_mib": bw / 2**20,
        "lat_us": max(lat_mean) if lat_mean else 0.0,
        "p99_us": max(p99) if p99 else 0.0,
        "cpu_us_per_io": cpu,
        "linger_us_per_io": linger,
        "ios_per_wakeup": ios_per_wakeup,
        "runtime_s": runtime_s,
        "rep": json_path.stem.rsplit(".", 1)[-1],
        "profile": json_path.stem.split(".", 1)[0],
        "timestamp": doc.get("timestamp"),
        "fio": doc.get("fio version"),
        "runtime": opts.get("runtime"),
        "ioengine": opts.get("ioengine"),
        "direct": opts.get("direct"),
    }


def verdict(paired: list):
    """"above" or "below" only when every repetition's ratio is above or below
    1; "noise" when the range reaches across 1; None with fewer than two."""
    if len(paired) < 2:
        return None
    if min(paired) > 1:
        return "above"
    if max(paired) < 1:
        return "below"
    return "noise"


def median_range(values: list) -> tuple:
    """(median, [min, max]) of the values that are there, or (None, None)."""
    vs = [v for v in values if v is not None]
    if not vs:
        return None, None
    return statistics.median(vs), [min(vs), max(vs)]


def environment(run: Path, bdir: Path, runs: list) -> dict:
    env = {}
    for line in (bdir / "env.txt").read_text().splitlines():
        key, _, value = line.partition(" ")
        env[key] = value.strip()
    sched = re.search(r"\[(\S+)\]", env.get("backing_scheduler", ""))
    stamps = [r["timestamp"] for r in runs if r["timestamp"]]
    # vm.sh logs the guest's console beside the results; the CPU model line
    # names the accelerator ("QEMU TCG CPU" without KVM).
    accel = None
    console = run / f"vm-{bdir.name}" / "console.log"
    if console.exists():
        text = console.read_text(errors="replace")
        if "QEMU TCG CPU" in text:
            accel = "QEMU TCG"
        elif "Hypervisor detected: KVM" in text:
            accel = "QEMU KVM"
    first = lambda key: next((r[key] for r in runs if r[key]), None)  # noqa: E731
    load = lambda key: " ".join(env[key].split()[:3]) if env.get(key) else None  # noqa: E731
    return {
        "kernel": env.get("kernel"),
        # scripts/bench.sh notes the kernel build; a "bench-" one is the
        # non-debug flavour of scripts/kernel.sh.
        "kernel_build": env.get("kernel_build"),
        "host_load": load("host_loadavg"),
        "host_load_end": load("host_loadavg_end"),
        "host_cpus": env.get("host_cpus"),
        # Which targets' devices can poll (queue/io_poll), e.g. "raw=1 loop=0".
        "io_poll": env.get("io_poll"),
        # rloop's lingering worker; runs before the rename say "poll_us".
        "linger_us_param": env.get("rloop_linger_us_param", env.get("rloop_poll_us_param")),
        "linger_us": env.get("rloop_linger_us", env.get("rloop_poll_us")),
        "linger_us_requested": env.get("rloop_linger_us_requested",
                                       env.get("rloop_poll_us_requested")),
        "cpus": env.get("cpus"),
        "device": env.get("backing", "").split(" ")[-1] or None,
        "scheduler": sched.group(1) if sched else None,
        "accel": accel,
        "fio": first("fio"),
        "ioengine": first("ioengine"),
        "runtime_s": first("runtime"),
        "start": (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(min(stamps)))
                  if stamps else None),
        "reps": len({r["rep"] for r in runs}),
        # The profiles the run was asked for, which ran or not (a polled
        # profile where no target can poll).
        "profiles": env.get("profiles", "").split(),
    }


def paired_ratios(by_rep: dict, num: str, den: str, k: str) -> list:
    """num/den of metric k, one per repetition in which both ran."""
    if num not in by_rep or den not in by_rep:
        return []
    out = []
    for i in sorted(by_rep[num].keys() & by_rep[den].keys()):
        a, b = by_rep[num][i][k], by_rep[den][i][k]
        if a is not None and b:
            out.append(a / b)
    return out


def summarise(run: Path) -> dict:
    summary = {}
    for bdir in sorted(p for p in run.iterdir() if p.is_dir() and (p / "env.txt").exists()):
        per = {}
        all_runs = []
        for prof, _, _, _ in PROFILES:
            per[prof] = {}
            by_rep = {}
            for t in TARGETS:
                runs = [one_run(p) for p in sorted(bdir.glob(f"{prof}.{t}.*.json"))]
                if not runs:
                    continue
                all_runs += runs
                by_rep[t] = {r["rep"]: r for r in runs}
                m = {"range": {}}
                for k in METRICS:
                    m[k], m["range"][k] = median_range([r[k] for r in runs])
                m["reps"] = len(runs)
                per[prof][t] = m
            m = per[prof]
            if not m:
                continue
            # Each ratio where both of its targets ran; the others are None
            # (n/a).
            ratios, ranges, n, verdicts, of_medians = {}, {}, {}, {}, {}
            for key, num, den, k in RATIOS:
                paired = paired_ratios(by_rep, num, den, k)
                ratios[key], ranges[key] = median_range(paired)
                n[key] = len(paired)
                verdicts[key] = verdict(paired)
                a, b = m.get(num, {}).get(k), m.get(den, {}).get(k)
                of_medians[key] = a / b if a is not None and b else None
            m["ratios"] = ratios
            m["ratio_ranges"] = ranges
            m["ratio_reps"] = n
            m["ratio_verdicts"] = verdicts
            m["ratio_of_medians"] = of_medians
        # QD1 randread polled against by interrupt, per target and paired
        # by repetition like the ratios between targets.
        polled = {}
        for t in TARGETS:
            pairs = {}
            for prof in ("rr4k_qd1_hipri", "rr4k_qd1"):
                pairs[prof] = {p.stem.rsplit(".", 1)[-1]: one_run(p)
                               for p in bdir.glob(f"{prof}.{t}.*.json")}
            paired = paired_ratios(pairs, "rr4k_qd1_hipri", "rr4k_qd1", "iops")
            if paired:
                med, rng = median_range(paired)
                polled[t] = {"ratio": med, "range": rng, "reps": len(paired),
                             "verdict": verdict(paired)}
        # Scaling from 1 to 2 jobs at QD32, per target.
        scaling = {}
        for t in TARGETS:
            try:
                scaling[t] = per["rr4k_qd32_2j"][t]["iops"] / per["rr4k_qd32"][t]["iops"]
            except KeyError:
                pass
        meta = environment(run, bdir, all_runs)
        # How far one target's repetitions strayed from its median, so the
        # caption can say how much this run, not only TCG in general, varied.
        dev = [v / m["iops"] - 1 for p in per.values() for m in p.values()
               if "range" in m and m["iops"] for v in m["range"]["iops"]]
        meta["iops_spread_pct"] = [100 * min(dev), 100 * max(dev)] if dev else None
        meta["engines"] = {}
        for prof, _, _, _ in PROFILES:
            r = next((r for r in all_runs if r["profile"] == prof), None)
            if r:
                meta["engines"][prof] = (f"{r['ioengine']}, "
                                         + ("O_DIRECT" if r["direct"] == "1" else "buffered"))
        summary[bdir.name] = {"env": (bdir / "env.txt").read_text().splitlines(),
                              "meta": meta,
                              "profiles": per, "two_job_scaling": scaling,
                              "polled_vs_interrupt": polled}
    return summary


def same_or_each(summary: dict, key: str, fmt=str, none="not recorded") -> str:
    """One value if every backing agrees, else each backing's."""
    vals = {b: s["meta"].get(key) for b, s in summary.items()}
    if len(set(vals.values())) == 1:
        v = next(iter(vals.values()))
        return fmt(v) if v is not None else none
    return ", ".join(f"{b} {fmt(v) if v is not None else none}" for b, v in vals.items())


def run_start(summary: dict) -> str:
    starts = [s["meta"]["start"] for s in summary.values() if s["meta"].get("start")]
    return min(starts) if starts else "(date not recorded)"


def spread_text(summary: dict) -> str:
    """TCG's usual spread, and this run's, in words."""
    sp = [s["meta"]["iops_spread_pct"] for s in summary.values()
          if s["meta"].get("iops_spread_pct")]
    if not sp:
        return f"by ±{TCG_SPREAD} %"
    lo, hi = min(x[0] for x in sp), max(x[1] for x in sp)
    more = " and more" if max(-lo, hi) > TCG_SPREAD else ""
    return (f"by ±{TCG_SPREAD} %{more} (in this run one target's IOPS ranged from "
            f"{lo:+.0f} % to {hi:+.0f} % of its median)")


def accel_text(summary: dict) -> str:
    return same_or_each(summary, "accel", none="QEMU (accelerator not recorded)")


def under_tcg(summary: dict) -> bool:
    # vm.sh always uses TCG; only a console that says KVM lifts the caveat.
    return any(s["meta"].get("accel") != "QEMU KVM" for s in summary.values())


def backing_text(backing: str, s: dict) -> str:
    what = BACKING_TEXT.get(backing, backing)
    sched = s["meta"].get("scheduler")
    return f"{backing}: {what}" + (f", scheduler {sched}" if sched else "")


def kernel_text(summary: dict) -> str:
    builds = {s["meta"].get("kernel_build") for s in summary.values()}
    if builds and all(b and b.startswith("bench-") for b in builds):
        return ("the non-debug bench kernel (scripts/kernel.sh bench: defconfig, "
                "kvm_guest.config and kconfig/base.config, without kconfig/debug.config)")
    if builds and all(b and b.startswith("test-") for b in builds):
        return "the debug test kernel (kconfig/debug.config): not for comparison"
    return "build not recorded"


def host_text(summary: dict) -> str:
    """The host's CPUs and load average (1, 5, 15 min) as each boot started
    and ended: a run beside another VM or a build shows there."""
    parts = []
    for b, s in summary.items():
        m = s["meta"]
        if m.get("host_load"):
            end = f" → {m['host_load_end']}" if m.get("host_load_end") else ""
            parts.append(f"{b} {m['host_load']}{end}")
    if not parts:
        return "load not recorded"
    return (f"{same_or_each(summary, 'host_cpus')} CPUs, load average (1, 5, 15 min) "
            f"as each boot started → ended: {'; '.join(parts)}")


def io_poll_text(summary: dict) -> str:
    """Which targets can take polled I/O, per backing."""
    parts = []
    for b, s in summary.items():
        v = s["meta"].get("io_poll")
        if v:
            kv = dict(x.partition("=")[::2] for x in v.split())
            parts.append(f"{b}: " + ", ".join(
                f"{t} {'yes' if kv.get(t) == '1' else 'no'}" for t in TARGETS if t in kv))
    return "; ".join(parts) if parts else "not recorded"


def linger_text(summary: dict) -> str:
    """rloop's lingering worker: the module's default and the devices' value."""
    if all(s["meta"].get("linger_us_param") is None and s["meta"].get("linger_us") is None
           for s in summary.values()):
        text = "no linger_us knob in this module (no lingering worker)"
    else:
        text = (f"module default {same_or_each(summary, 'linger_us_param')}, "
                f"the devices {same_or_each(summary, 'linger_us')}")
    if any(s["meta"].get("linger_us_requested") is not None for s in summary.values()):
        text += f" (RLOOP_BENCH_LINGER_US={same_or_each(summary, 'linger_us_requested')})"
    return text


def engine_text(summary: dict) -> str:
    """fio's engine: the common one, and the profiles that differ."""
    engines = {}
    for s in summary.values():
        engines.update(s["meta"].get("engines", {}))
    if not engines:
        return same_or_each(summary, "ioengine")
    common = statistics.mode(engines.values())
    label = {p: lbl for p, lbl, _, _ in PROFILES}
    others = [f"{label.get(p, p)}: {e}" for p, e in engines.items() if e != common]
    return common + (" (" + "; ".join(others) + ")" if others else "")


MARK = {"above": "**>1**", "below": "**<1**", "noise": "~", None: ""}


def fmt_ratio(v, rng=None, mark=None, n=None) -> str:
    """median (min–max) and the verdict: >1 and <1 only when the whole range
    is on that side, ~ when it reaches across 1."""
    if v is None:
        return "n/a"
    if n == 1:
        return f"{v:.2f} (1 rep)"
    text = f"{v:.2f}" + (f" ({rng[0]:.2f}–{rng[1]:.2f})" if rng else "")
    return text + (f" {MARK[mark]}" if MARK.get(mark) else "")


def fmt_cpu(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def fmt_range(v, rng, fmt) -> str:
    if v is None:
        return "n/a"
    if not rng or rng[0] == rng[1]:
        return fmt(v)
    return f"{fmt(v)} ({fmt(rng[0])}–{fmt(rng[1])})"


def rloop_metric_line(s: dict, key: str) -> str:
    """rloop's median (min–max) of metric `key` for each profile that has it,
    in one line; empty if none has."""
    return ", ".join(
        f"{label} {fmt_range(m[key], m['range'][key], fmt_cpu)}"
        for prof, label, _, _ in PROFILES
        if (m := s["profiles"].get(prof, {}).get("rloop", {})).get(key) is not None)


def markdown(summary: dict) -> str:
    out = ["## Environment", ""]
    if summary:
        out += [
            f"- date: {run_start(summary)} (start of the first fio job)",
            f"- kernel: {same_or_each(summary, 'kernel')}, "
            f"{same_or_each(summary, 'cpus')} vCPUs; {kernel_text(summary)}",
            f"- machine: {accel_text(summary)}"
            + (": absolute numbers mean little and repetitions of one target differ "
               f"{spread_text(summary)}; compare targets within a backing and claim a "
               "difference only where the whole min–max range is on one side of 1.0"
               if under_tcg(summary) else ""),
            f"- host: {host_text(summary)}",
            "- backings: " + "; ".join(backing_text(b, s) for b, s in summary.items()),
            f"- polled I/O (queue/io_poll) by target: {io_poll_text(summary)}",
            f"- rloop lingering (linger_us): {linger_text(summary)}",
            f"- repetitions: {same_or_each(summary, 'reps')}, the targets back to back "
            f"in each, {same_or_each(summary, 'runtime_s')} s per job; per target the "
            "median (min–max) over the repetitions; ratios are taken per repetition, "
            "shown as their median (min–max)",
            f"- fio: {same_or_each(summary, 'fio')}, {engine_text(summary)}",
            "- CPU per I/O: busy time of all CPUs (/proc/stat, from fio's first to "
            "its last I/O) ÷ I/Os, so the drivers' kernel workers count",
            "",
            "Profiles:",
            "",
        ]
        ran = {p for s in summary.values() for p, m in s["profiles"].items() if m}
        out += [f"- {lbl} (`{p}`): {desc}" for p, lbl, _, desc in PROFILES if p in ran]
        out.append("")
    for backing, s in summary.items():
        out.append(f"### {backing}\n")
        out.append("| profile | target | IOPS | MiB/s | mean lat µs | p99 µs | CPU µs/IO |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for prof, label, _, _ in PROFILES:
            for t in TARGETS:
                m = s["profiles"].get(prof, {}).get(t)
                if m:
                    r = m["range"]
                    out.append(f"| {label} | {t} | "
                               f"{fmt_range(m['iops'], r['iops'], lambda v: f'{v:.0f}')} | "
                               f"{m['bw_mib']:.1f} | {m['lat_us']:.0f} | {m['p99_us']:.0f} | "
                               f"{fmt_range(m['cpu_us_per_io'], r['cpu_us_per_io'], fmt_cpu)} |")
        out.append("")
        out.append("Ratios per repetition: median (min–max). **>1** / **<1**: every "
                   "repetition's ratio is above / below 1; ~: the range reaches across 1, "
                   f"within noise. n/a: a target that did not run ({no_raw_text()}).\n")
        out.append("| profile | rloop/raw | rloop/loop | loop/raw | CPU/IO rloop/loop "
                   "| CPU/IO raw/loop |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for prof, label, _, _ in PROFILES:
            p = s["profiles"].get(prof, {})
            if not p and prof not in s["meta"].get("profiles", []):
                continue
            # A missing value (a target that did not run, no CPU figures)
            # says n/a in its own cell: the row and its label stay.
            r, rr = p.get("ratios", {}), p.get("ratio_ranges", {})
            mk, n = p.get("ratio_verdicts", {}), p.get("ratio_reps", {})
            out.append(f"| {label} | " + " | ".join(
                fmt_ratio(r.get(key), rr.get(key), mk.get(key), n.get(key))
                for key, _, _, _ in RATIOS) + " |")
        pv = s.get("polled_vs_interrupt")
        if pv:
            out.append("")
            out.append("4k randread QD1, polled/by interrupt IOPS, per repetition: " + ", ".join(
                f"{t} {fmt_ratio(v['ratio'], v['range'], v['verdict'], v['reps'])}"
                for t, v in pv.items()))
        for key, what in (("linger_us_per_io",
                            "rloop's workers lingering, µs per I/O (part of its CPU µs/IO)"),
                          ("ios_per_wakeup", "rloop's I/Os per wake-up of a worker")):
            line = rloop_metric_line(s, key)
            if line:
                out += ["", f"{what}: {line}"]
        sc = s["two_job_scaling"]
        if sc:
            out.append("")
            out.append("2-job/1-job IOPS at 4k randread QD32: " +
                       ", ".join(f"{t} {v:.2f}" for t, v in sc.items()))
        out.append("")
    return "\n".join(out)


# --- the chart ---------------------------------------------------------------

FONT = 11
# Wider than the average glyph of the usual sans-serif fonts, so that layout
# from this estimate leaves text room instead of clipping it.
CHAR_W = 0.62 * FONT
RATIO_BARS = [("rloop/loop", "#ee6677"), ("rloop/raw", "#4477aa")]
TARGET_COLORS = {"raw": "#bbbbbb", "loop": "#66ccee", "rloop": "#aa3377"}


def text_w(s: str, size: float = FONT) -> float:
    return len(s) * CHAR_W * size / FONT


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap(s: str, width: float, size: float = FONT) -> list:
    lines, cur = [], ""
    for word in s.split(" "):
        if cur and text_w(cur + " " + word, size) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    return lines + [cur] if cur else lines


def nice_scale(vmax: float, ticks: int = 5) -> tuple:
    """(top, step): the axis ends just past vmax, not at the next round
    number, which could leave up to a third of the panel empty; ticks go at
    round steps below it."""
    vmax = max(vmax, 1e-9)
    raw = vmax / ticks
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return vmax * 1.03, step


def tick_label(v: float, step: float) -> str:
    d = next(d for d in range(6) if abs(round(step, d) - step) < 1e-9)
    return f"{v:.{d}f}".rstrip("0").rstrip(".") if d else f"{v:.0f}"


class Chart:
    def __init__(self):
        self.parts = []

    def add(self, s: str):
        self.parts.append(s)

    def text(self, x, y, s, anchor="start", size=FONT, fill="#000", extra=""):
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
                 f'text-anchor="{anchor}"{extra}>{esc(s)}</text>')

    def line(self, x1, y1, x2, y2, stroke="#000", extra=""):
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{stroke}"{extra}/>')

    def rect(self, x, y, w, h, fill, extra="", tip=None):
        close = f"><title>{esc(tip)}</title></rect>" if tip else "/>"
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
                 f'height="{h:.1f}" fill="{fill}"{extra}{close}')


def bar_panel(c: Chart, x0: float, y0: float, plot_w: float, rows: list, top: float,
              step: float, bars: list, row_h: float, bar_h: float, fmt, one=False,
              axis_title=""):
    """Horizontal bars from 0. rows: one list per profile of (value, [lo, hi]
    or None, colour, pale, tooltip) per bar, value None for n/a. Returns the y
    below the axis title."""
    x_of = lambda v: x0 + v / top * plot_w  # noqa: E731
    h = row_h * len(rows)
    c.rect(x0, y0, plot_w, h, "none", ' class="plot"')
    for i in range(int(top / step + 1e-9) + 1):
        v = i * step
        c.line(x_of(v), y0, x_of(v), y0 + h, "#000" if i == 0 else "#e3e3e3")
        c.text(x_of(v), y0 + h + 13, tick_label(v, step), "middle", fill="#333")
    for i, row in enumerate(rows):
        y = y0 + i * row_h + (row_h - bars * bar_h) / 2
        for k, (val, rng, color, pale, tip) in enumerate(row):
            by = y + k * bar_h
            mid = by + (bar_h - 1) / 2
            if val is None:
                c.text(x0 + 4, mid + 4, "n/a", fill="#666", extra=' font-style="italic"')
                continue
            # A pale bar is one whose range reaches across 1.0: no claim.
            style = (f' fill-opacity="0.35" stroke="{color}" stroke-width="1"'
                     if pale else "")
            c.rect(x0, by, x_of(val) - x0, bar_h - 1, color, f' class="bar"{style}', tip)
            end = val
            if rng:
                lo, hi = rng
                end = max(end, hi)
                c.line(x_of(lo), mid, x_of(hi), mid, "#222", ' class="whisker"')
                for w in (lo, hi):
                    c.line(x_of(w), mid - 3, x_of(w), mid + 3, "#222")
            c.text(x_of(end) + 4, mid + 4, fmt(val), size=FONT - 1)
    if one:
        c.line(x_of(1.0), y0 - 4, x_of(1.0), y0 + h + 2, "#000",
               ' stroke-width="1.2" stroke-dasharray="5 3" class="one"')
    c.text(x0 + plot_w / 2, y0 + h + 29, axis_title, "middle")
    return y0 + h + 36


def svg(summary: dict) -> str:
    """IOPS ratios, then CPU µs per I/O per I/O size; one column per backing,
    the profile labels once on the left."""
    backings = list(summary.items())
    profs = [p for p in PROFILES if any(s["profiles"].get(p[0]) for _, s in backings)]
    pad = 12
    label_w = max([text_w(lbl) for _, lbl, _, _ in profs] + [text_w("CPU µs per I/O")]) + 14
    # Room right of each plot for the value printed after the longest bar.
    val_w = text_w("00000", FONT - 1) + 10
    plot_w = 300
    col_w = plot_w + val_w + 24
    ratio_legend = ([(k, col, "") for k, col in RATIO_BARS]
                    + [("pale: the range reaches 1.0", "#999999",
                        ' fill-opacity="0.35" stroke="#999999"')])
    cpu_legend = [(t, TARGET_COLORS[t], "") for t in TARGETS]
    cpu_note = "all CPUs, /proc/stat; less is cheaper"
    legend_w = lambda items: sum(34 + text_w(n) for n, _, _ in items)  # noqa: E731
    width = pad + label_w + max(col_w * max(1, len(backings)), legend_w(ratio_legend),
                                legend_w(cpu_legend) + text_w(cpu_note)) + pad
    c = Chart()
    y = 24
    c.text(pad, y, "rloop vs the kernel's loop (direct I/O) and the raw file", size=15,
           extra=' font-weight="bold"')

    # Caption: what was measured where, and how far to trust it.
    if backings:
        reps = same_or_each(summary, "reps")
        caption = [
            f"Run {run_start(summary)}, kernel {same_or_each(summary, 'kernel')}, "
            f"{accel_text(summary)}, {same_or_each(summary, 'cpus')} vCPUs, "
            f"{same_or_each(summary, 'fio')} {engine_text(summary)}, "
            f"{same_or_each(summary, 'runtime_s')} s per job, {reps} repetitions with the "
            "targets back to back. Ratio bars: the median of the per-repetition ratios, "
            "whiskers their min–max; CPU bars: medians, whiskers min–max.",
            "Backings: " + "; ".join(f"{b}, {BACKING_TEXT.get(b, b)}" for b, _ in backings)
            + f"; I/O scheduler {same_or_each(summary, 'scheduler')}. "
            f"Host: {host_text(summary)}. {no_raw_text()} (n/a).",
        ]
        if under_tcg(summary):
            caption.append(
                f"Under QEMU TCG repetitions differ {spread_text(summary)}: read a "
                "difference only where the whole min–max range is on one side of 1.0 "
                "(pale bars: it is not). Absolute numbers mean little under TCG.")
    else:
        caption = ["No results in this run."]
    y += 8
    for para in caption:
        for ln in wrap(para, width - 2 * pad):
            y += 15
            c.text(pad, y, ln, fill="#333")

    def column_heads(y):
        for j, (b, _) in enumerate(backings):
            x = pad + label_w + j * col_w
            c.text(x, y, b, size=13, extra=' font-weight="bold"')
            if b in BACKING_TEXT:
                c.text(x + text_w(b, 13) + 6, y, BACKING_TEXT[b], size=FONT - 1, fill="#555")

    def legend(y, items, note=""):
        x = pad + label_w
        for name, color, extra in items:
            c.rect(x, y - 9, 12, 10, color, extra)
            c.text(x + 16, y, name)
            x += 16 + text_w(name) + 18
        if note:
            c.text(x, y, note, fill="#333")

    def row_labels(y0, row_h, labels):
        for i, lbl in enumerate(labels):
            if i % 2:
                c.rect(pad, y0 + i * row_h, width - 2 * pad, row_h, "#f4f4f4")
            c.text(pad + label_w - 10, y0 + i * row_h + row_h / 2 + 4, lbl, "end")

    # IOPS ratios, one scale for all backings so that columns compare.
    y += 30
    c.text(pad, y, "IOPS ratio", size=13, extra=' font-weight="bold"')
    legend(y, ratio_legend)
    vals = [1.2]
    for _, s in backings:
        for p in profs:
            m = s["profiles"].get(p[0], {})
            for key, _ in RATIO_BARS:
                vals += [v for v in [m.get("ratios", {}).get(key)] if v is not None]
                vals += (m.get("ratio_ranges", {}).get(key) or [])
    top, step = nice_scale(max(vals), 6)
    row_h, bar_h = 30, 12
    y += 22
    column_heads(y)
    y0 = y + 12
    row_labels(y0, row_h, [lbl for _, lbl, _, _ in profs])
    y_end = y0
    for j, (b, s) in enumerate(backings):
        rows = []
        for prof, lbl, _, _ in profs:
            m = s["profiles"].get(prof, {})
            row = []
            for key, color in RATIO_BARS:
                v = m.get("ratios", {}).get(key)
                rng = m.get("ratio_ranges", {}).get(key)
                # Only a range wholly on one side of 1.0 makes a claim.
                mark = m.get("ratio_verdicts", {}).get(key)
                pale = mark not in ("above", "below")
                tip = f"{b} {lbl} {key} {fmt_ratio(v, rng, mark, m.get('ratio_reps', {}).get(key))}"
                row.append((v, rng, color, pale, tip))
            rows.append(row)
        y_end = bar_panel(c, pad + label_w + j * col_w, y0, plot_w, rows, top, step,
                          len(RATIO_BARS), row_h, bar_h, lambda v: f"{v:.2f}", one=True,
                          axis_title="IOPS ratio, > 1 = rloop faster")

    # CPU per I/O, a panel per I/O size: 1M I/Os cost tens of times what 4k
    # ones do, and on one scale the 4k bars would vanish.
    y = y_end + 22
    c.text(pad, y, "CPU µs per I/O", size=13, extra=' font-weight="bold"')
    has_cpu = any(m.get("cpu_us_per_io") is not None for _, s in backings
                  for p in s["profiles"].values() for t, m in p.items() if t in TARGETS)
    if has_cpu:
        legend(y, cpu_legend, cpu_note)
    else:
        c.text(pad + label_w, y, "not recorded in this run", fill="#333")
    y += 10
    for size in dict.fromkeys(p[2] for p in profs if has_cpu):
        group = [p for p in profs if p[2] == size]
        row_h, bar_h = 42, 12
        y += 14
        y0 = y
        row_labels(y0, row_h, [lbl for _, lbl, _, _ in group])
        y_end = y0
        for j, (b, s) in enumerate(backings):
            vals = [0.0]
            for p in group:
                for t in TARGETS:
                    m = s["profiles"].get(p[0], {}).get(t) or {}
                    vals += (m.get("range", {}).get("cpu_us_per_io") or [])
            top, step = nice_scale(max(vals) or 1.0, 4)
            rows = []
            for prof, lbl, _, _ in group:
                row = []
                for t in TARGETS:
                    m = s["profiles"].get(prof, {}).get(t) or {}
                    v = m.get("cpu_us_per_io")
                    rng = m.get("range", {}).get("cpu_us_per_io")
                    row.append((v, rng, TARGET_COLORS[t], False,
                                f"{b} {lbl} {t} {fmt_cpu(v)} µs/IO"))
                rows.append(row)
            y_end = bar_panel(c, pad + label_w + j * col_w, y0, plot_w, rows, top, step,
                              len(TARGETS), row_h, bar_h, fmt_cpu,
                              axis_title=f"CPU µs per I/O, {size} ({b})")
        y = y_end
    height = y + pad
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="{FONT}">')
    return "\n".join([head, f'<rect width="{width:.0f}" height="{height:.0f}" fill="#fff"/>']
                     + c.parts + ["</svg>"]) + "\n"


# --- self-test ---------------------------------------------------------------

def fake_fio(path: Path, iops: float, rw: str, bs: int, stamp: int, cpu_busy=None,
             engine="io_uring", direct="1"):
    ios = int(iops * 5)
    part = lambda n: {"total_ios": n, "bw_bytes": n * bs / 5, "iops": n / 5,  # noqa: E731
                      "lat_ns": {"mean": 1e9 / max(iops, 1),
                                 "percentile": {"99.000000": 3e9 / max(iops, 1)}},
                      "clat_ns": {"mean": 0}}
    doc = {"fio version": "fio-3.33", "timestamp": stamp,
           "jobs": [{"job options": {"runtime": "5", "ioengine": engine, "direct": direct},
                     "job_runtime": 5000,
                     "read": part(ios if rw == "read" else 0),
                     "write": part(ios if rw == "write" else 0)}]}
    path.write_text(json.dumps(doc))
    if cpu_busy is not None:
        path.with_suffix(".cpu").write_text(f"{cpu_busy} 1000 100\n")


# Per-repetition rloop/loop IOPS ratios the self-test plants on nullb: the
# median, range and verdict must come out of the pairs, whatever the medians
# of the targets are (loop's IOPS wander from repetition to repetition).
PLANTED = {
    "rr4k_qd32": ([1.30, 1.10, 1.15, 1.20, 1.25], 1.20, "above", "**>1**"),
    "rw4k_qd32": ([0.90, 1.30, 1.00, 1.10, 1.05], 1.05, "noise", "~"),
    "rr4k_qd32_md": ([0.70, 0.80, 0.75, 0.95, 0.85], 0.80, "below", "**<1**"),
}
REPS = 5


def self_test() -> int:
    import random
    rnd = random.Random(1)
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        for backing in ("nullb", "virtio"):
            bdir = run / backing
            bdir.mkdir()
            (bdir / "env.txt").write_text(
                f"kernel 6.12.117\ncpus 2\nbacking {backing} /dev/x\n"
                "backing_scheduler [none] mq-deadline\n"
                f"io_poll raw={int(backing == 'nullb')} loop=0 rloop=0\n"
                f"host_loadavg {'0.31 0.42 0.53' if backing == 'nullb' else '2.50 2.10 1.90'}"
                " 1/83 7274\nhost_loadavg_end 1.11 1.22 1.33\nhost_cpus 2\n"
                # The virtio run as written before the rename: read all the same.
                + ("rloop_linger_us_param 50\nrloop_linger_us 0\nrloop_linger_us_requested 0\n"
                   if backing == "nullb" else
                   "rloop_poll_us_param 50\nrloop_poll_us 0\nrloop_poll_us_requested 0\n")
                + "kernel_build bench-b8a9396ea437a48e\n"
                "profiles " + " ".join(p for p, _, _, _ in PROFILES) + "\n")
            (run / f"vm-{backing}").mkdir()
            (run / f"vm-{backing}" / "console.log").write_text(
                "smpboot: CPU0: AMD QEMU TCG CPU version 2.5+\n")
            for prof, _, size, _ in PROFILES:
                loop_iops = {}
                for t in TARGETS:
                    # virtio lacks rloop for one profile: its ratios are n/a.
                    if backing == "virtio" and prof == "sr1m_qd8" and t == "rloop":
                        continue
                    if t == "raw" and prof in NO_RAW:
                        continue
                    # Polled I/O: only the raw file on null_blk can.
                    if prof == "rr4k_qd1_hipri" and (backing == "virtio" or t != "raw"):
                        continue
                    base = {"raw": 1000, "loop": 800, "rloop": 1000}[t]
                    # The widest ratio must still fit the scale.
                    if prof == "rr4k_qd32_2j" and t == "rloop":
                        base = 2300
                    for rep in range(1, REPS + 1):
                        cpu = None if (backing == "nullb" and t == "loop"
                                       and prof == "rr4k_qd1") else rnd.randint(200, 900)
                        iops = base * rnd.uniform(0.7, 1.3)
                        if t == "loop":
                            # Far apart, so that the ratio of the medians
                            # is not the median of the ratios.
                            iops = base * (0.5 + 0.3 * rep)
                            loop_iops[rep] = iops
                        if t == "rloop" and backing == "nullb" and prof in PLANTED:
                            iops = loop_iops[rep] * PLANTED[prof][0][rep - 1]
                        ext4 = prof == "ext4_fsync"
                        fake_fio(bdir / f"{prof}.{t}.{rep}.json", iops,
                                 "write" if "w" in prof[:2] or ext4 else "read",
                                 2**20 if size == "1M" else 4096, 1796203453 + rep, cpu,
                                 "psync" if ext4 else "io_uring", "0" if ext4 else "1")
                        # rloop lingered 2 µs per I/O at QD32 reads on null_blk.
                        if t == "rloop" and backing == "nullb" and prof == "rr4k_qd32":
                            ios = int(iops * 5)
                            (bdir / f"{prof}.{t}.{rep}.linger").write_text(
                                f"3 4 100 7\n9 9 {100 + 2 * ios} {7 + ios // 4}\n")
        summary = summarise(run)
        md = markdown(summary)
        doc = svg(summary)
    nb = summary["nullb"]["profiles"]
    for prof, (_, median, mark, cell) in PLANTED.items():
        m = nb[prof]
        got = (m["ratios"]["rloop/loop"], m["ratio_verdicts"]["rloop/loop"],
               m["ratio_reps"]["rloop/loop"])
        if abs(got[0] - median) > 1e-3 or got[1:] != (mark, REPS):
            bad.append(f"summary: {prof} rloop/loop {got}, want ({median}, {mark}, {REPS})")
        lo, hi = min(PLANTED[prof][0]), max(PLANTED[prof][0])
        if [round(x, 3) for x in m["ratio_ranges"]["rloop/loop"]] != [lo, hi]:
            bad.append(f"summary: {prof} rloop/loop range {m['ratio_ranges']['rloop/loop']}")
        label = next(lbl for p, lbl, _, _ in PROFILES if p == prof)
        row = next((ln for ln in md.splitlines() if ln.startswith(f"| {label} | ")
                    and ln.count("|") == 7), "")
        if f"{median:.2f} ({lo:.2f}–{hi:.2f}) {cell} |" not in row:
            bad.append(f"md: {prof} ratio row {row!r} lacks {cell}")
    if abs(nb["rr4k_qd32"]["ratio_of_medians"]["rloop/loop"] - 1.20) < 0.01:
        bad.append("self-test: the planted loop IOPS do not tell the two ratios apart")
    # virtio's 1M read lacks rloop: its ratios are n/a, loop/raw is there.
    r = summary["virtio"]["profiles"]["sr1m_qd8"]["ratios"]
    if r["rloop/loop"] is not None or r["rloop/raw"] is not None or r["loop/raw"] is None:
        bad.append(f"summary: virtio sr1m_qd8 ratios {r}: want n/a only with rloop")
    for prof in NO_RAW:
        for b in ("nullb", "virtio"):
            m = summary[b]["profiles"][prof]
            if (m["ratios"]["rloop/raw"], m["ratios"]["loop/raw"]) != (None, None) \
                    or m["ratios"]["rloop/loop"] is None or "raw" in m:
                bad.append(f"summary: {b} {prof}: want raw n/a, rloop/loop there")
        label = next(lbl for p, lbl, _, _ in PROFILES if p == prof)
        row = next(ln for ln in md.splitlines() if ln.startswith(f"| {label} | ")
                   and ln.count("|") == 7)
        cells = [c.strip() for c in row.split("|")[2:-1]]
        if cells[0] != "n/a" or cells[2] != "n/a" or cells[1] == "n/a":
            bad.append(f"md: {prof} ratio row {row!r}: want n/a against raw only")
    root = ET.fromstring(doc)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text or "" for t in root.iter(ns + "text")]
    width, height = float(root.get("width")), float(root.get("height"))
    for prof, label, _, _ in PROFILES:
        # Once among the ratio rows, once among the CPU rows.
        if texts.count(label) != 2:
            bad.append(f"svg: label {label!r} {texts.count(label)} times, want 2")
        # In each backing a row per target that ran and a ratio row, whatever
        # is missing (virtio's 1M read lacks rloop).
        # No target polls on virtio: the ratio row stays, n/a.
        want = {"1M read QD8": 7, "4k randread QD1, polled": 3}.get(
            label, 2 * (len(TARGETS) + 1) - 2 * (prof in NO_RAW))
        if md.count(f"| {label} |") != want:
            bad.append(f"md: label {label!r} {md.count(f'| {label} |')} times")
        if f"- {label} (`{prof}`): " not in md:
            bad.append(f"md: {prof} not in the list of profiles")
    if "n/a" not in texts:
        bad.append("svg: a missing value does not say n/a")
    for needle in ("## Environment", "6.12.117", "QEMU TCG", "fio-3.33", f"±{TCG_SPREAD} %",
                   "nullb 0.31 0.42 0.53 → 1.11 1.22 1.33; virtio 2.50 2.10 1.90 →",
                   "non-debug bench kernel",
                   "module default 50, the devices 0 (RLOOP_BENCH_LINGER_US=0)",
                   "io_uring, O_DIRECT (ext4 4k randwrite, fsync/8: psync, buffered)",
                   "by target: nullb: raw yes, loop no, rloop no; virtio: raw no,",
                   "within noise", "4k randread QD1, polled/by interrupt IOPS, per "
                   "repetition: raw ",
                   "rloop's workers lingering, µs per I/O (part of its CPU µs/IO): "
                   "4k randread QD32 2.0\n",
                   "rloop's I/Os per wake-up of a worker: 4k randread QD32 4.0"):
        if needle not in md:
            bad.append(f"md: no {needle!r}")
    caption = " ".join(texts)
    if "QEMU TCG" not in caption or f"±{TCG_SPREAD} %" not in caption:
        bad.append("svg: caption lacks TCG or its caveat")
    plots = [(float(r.get("x")), float(r.get("width"))) for r in root.iter(ns + "rect")
             if r.get("class") == "plot"]
    for r in root.iter(ns + "rect"):
        if r.get("class") != "bar":
            continue
        x, w = float(r.get("x")), float(r.get("width"))
        if not any(px - 0.1 <= x and x + w <= px + pw + 0.1 for px, pw in plots):
            bad.append(f"svg: bar {r.findtext(ns + 'title')} leaves its plot")
    for ln in root.iter(ns + "line"):
        if ln.get("class") == "whisker" and not any(
                px - 0.1 <= float(ln.get("x1")) and float(ln.get("x2")) <= px + pw + 0.1
                for px, pw in plots):
            bad.append("svg: a whisker leaves its plot")
    if sum(1 for ln in root.iter(ns + "line") if ln.get("class") == "one") != 2:
        bad.append("svg: want a line at 1.0 in each ratio panel")
    for t in root.iter(ns + "text"):
        x, s = float(t.get("x")), t.text or ""
        w = text_w(s, float(t.get("font-size")))
        left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor")]
        if left < 0 or left + w > width or not 0 < float(t.get("y")) <= height:
            bad.append(f"svg: text {s!r} outside the image")
    for b in bad:
        print("FAIL", b)
    print("self-test:", "FAIL" if bad else "ok")
    return 1 if bad else 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run = Path(sys.argv[1])
    summary = summarise(run)
    (run / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (run / "bench.md").write_text(markdown(summary))
    (run / "bench.svg").write_text(svg(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
