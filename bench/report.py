#!/usr/bin/env python3
"""Summarises a `make bench` run: medians and min-max per backing, profile and
target, the ratios rloop/raw, rloop/loop and loop/raw (of the medians, with the
min-max of the per-repetition ratios), a markdown report and an SVG chart of
the ratios.

Usage: report.py RUN_DIR     (RUN_DIR/<backing>/<profile>.<target>.<rep>.json,
                              .cpu beside each, env.txt per backing; the
                              VM's console in RUN_DIR/vm-<backing>/ if kept)
"""
import json
import re
import statistics
import sys
import time
from pathlib import Path

PROFILES = [
    ("rr4k_qd32", "4k randread QD32"),
    ("rr4k_qd1", "4k randread QD1"),
    ("rw4k_qd32", "4k randwrite QD32"),
    ("sr1m_qd8", "1M read QD8"),
    ("sw1m_qd8", "1M write QD8"),
    ("rr4k_qd32_2j", "4k randread QD32, 2 jobs"),
]
TARGETS = ["raw", "loop", "rloop"]
# key in "ratios", numerator, denominator, metric
RATIOS = [
    ("rloop/raw", "rloop", "raw", "iops"),
    ("rloop/loop", "rloop", "loop", "iops"),
    ("loop/raw", "loop", "raw", "iops"),
    ("cpu rloop/loop", "rloop", "loop", "cpu_us_per_io"),
]
METRICS = ("iops", "bw_mib", "lat_us", "p99_us", "cpu_us_per_io")
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
    opts = job.get("job options", {})
    return {
        "iops": (job["read"]["iops"] + job["write"]["iops"]),
        "bw_mib": bw / 2**20,
        "lat_us": max(lat_mean) if lat_mean else 0.0,
        "p99_us": max(p99) if p99 else 0.0,
        "cpu_us_per_io": cpu,
        "runtime_s": runtime_s,
        "rep": json_path.stem.rsplit(".", 1)[-1],
        "timestamp": doc.get("timestamp"),
        "fio": doc.get("fio version"),
        "runtime": opts.get("runtime"),
        "ioengine": opts.get("ioengine"),
    }


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
    return {
        "kernel": env.get("kernel"),
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
    }


def summarise(run: Path) -> dict:
    summary = {}
    for bdir in sorted(p for p in run.iterdir() if p.is_dir() and (p / "env.txt").exists()):
        per = {}
        all_runs = []
        for prof, _ in PROFILES:
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
            if all(t in m for t in TARGETS):
                ratios, ranges = {}, {}
                for key, num, den, k in RATIOS:
                    a, b = m[num][k], m[den][k]
                    ratios[key] = a / b if a is not None and b else None
                    # Targets run interleaved within a repetition: pairing by
                    # repetition cancels what drifts between repetitions.
                    paired = [by_rep[num][i][k] / by_rep[den][i][k]
                              for i in by_rep[num].keys() & by_rep[den].keys()
                              if by_rep[num][i][k] is not None and by_rep[den][i][k]]
                    ranges[key] = [min(paired), max(paired)] if paired else None
                m["ratios"] = ratios
                m["ratio_ranges"] = ranges
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
        summary[bdir.name] = {"env": (bdir / "env.txt").read_text().splitlines(),
                              "meta": meta,
                              "profiles": per, "two_job_scaling": scaling}
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


def fmt_ratio(v, rng=None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f}" + (f" ({rng[0]:.2f}–{rng[1]:.2f})" if rng else "")


def markdown(summary: dict) -> str:
    out = ["## Environment", ""]
    if summary:
        out += [
            f"- date: {run_start(summary)} (start of the first fio job)",
            f"- kernel: {same_or_each(summary, 'kernel')}, "
            f"{same_or_each(summary, 'cpus')} vCPUs",
            f"- machine: {accel_text(summary)}"
            + (": absolute numbers mean little and repetitions of one target differ "
               f"{spread_text(summary)}; compare targets within a backing and claim a "
               "difference only where the whole min–max range is on one side of 1.0"
               if under_tcg(summary) else ""),
            "- backings: " + "; ".join(backing_text(b, s) for b, s in summary.items()),
            f"- repetitions: {same_or_each(summary, 'reps')}, targets interleaved, "
            f"{same_or_each(summary, 'runtime_s')} s per job; values are medians, "
            "ranges min–max (of ratios: of the per-repetition ratios)",
            f"- fio: {same_or_each(summary, 'fio')}, {same_or_each(summary, 'ioengine')}, "
            "O_DIRECT",
            "- CPU per I/O: busy time of all CPUs (/proc/stat) over the job ÷ I/Os, "
            "so the drivers' kernel workers count",
            "",
        ]
    for backing, s in summary.items():
        out.append(f"### {backing}\n")
        out.append("| profile | target | IOPS | MiB/s | mean lat µs | p99 µs | CPU µs/IO |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for prof, label in PROFILES:
            for t in TARGETS:
                m = s["profiles"].get(prof, {}).get(t)
                if m:
                    cpu = m["cpu_us_per_io"]
                    out.append(f"| {label} | {t} | {m['iops']:.0f} | {m['bw_mib']:.1f} | "
                               f"{m['lat_us']:.0f} | {m['p99_us']:.0f} | "
                               f"{'n/a' if cpu is None else f'{cpu:.1f}'} |")
        out.append("")
        out.append("Ratios of the medians; in brackets the min–max of the "
                   "per-repetition ratios.\n")
        out.append("| profile | rloop/raw | rloop/loop | loop/raw | CPU/IO rloop/loop |")
        out.append("| --- | ---: | ---: | ---: | ---: |")
        for prof, label in PROFILES:
            p = s["profiles"].get(prof, {})
            if not p:
                continue
            # A missing value (a target that did not run, no CPU figures)
            # says n/a in its own cell: the row and its label stay.
            r = p.get("ratios", {})
            rr = p.get("ratio_ranges", {})
            out.append(f"| {label} | " + " | ".join(
                fmt_ratio(r.get(key), rr.get(key)) for key, _, _, _ in RATIOS) + " |")
        sc = s["two_job_scaling"]
        if sc:
            out.append("")
            out.append("2-job/1-job IOPS at 4k randread QD32: " +
                       ", ".join(f"{t} {v:.2f}" for t, v in sc.items()))
        out.append("")
    return "\n".join(out)


def svg(summary: dict) -> str:
    """Grouped bars: rloop/raw and rloop/loop per profile, one panel per backing."""
    w_panel, h, bar, gap = 520, 300, 16, 24
    panels = list(summary.items())
    width = w_panel * max(1, len(panels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h + 120}" '
             'font-family="sans-serif" font-size="11">']
    ymax = 1.5
    for i, (backing, s) in enumerate(panels):
        x0 = i * w_panel + 50
        y_of = lambda v: 30 + h - min(v, ymax) / ymax * h  # noqa: E731
        parts.append(f'<text x="{x0}" y="18" font-size="14">{backing}</text>')
        for v in (0.5, 1.0, 1.5):
            y = y_of(v)
            parts.append(f'<line x1="{x0}" x2="{x0 + w_panel - 70}" y1="{y}" y2="{y}" '
                         f'stroke="{"#000" if v == 1.0 else "#ccc"}"/>')
            parts.append(f'<text x="{x0 - 30}" y="{y + 4}">{v:.1f}</text>')
        for j, (prof, label) in enumerate(PROFILES):
            r = s["profiles"].get(prof, {}).get("ratios")
            if not r:
                continue
            x = x0 + 10 + j * (2 * bar + gap)
            for k, (key, color) in enumerate((("rloop/raw", "#4477aa"), ("rloop/loop", "#ee6677"))):
                v = r[key]
                y = y_of(v)
                parts.append(f'<rect x="{x + k * bar}" y="{y}" width="{bar - 2}" '
                             f'height="{30 + h - y}" fill="{color}"><title>{label} {key} '
                             f'{v:.2f}</title></rect>')
            parts.append(f'<text transform="translate({x + 4},{h + 40}) rotate(40)">{label}</text>')
    parts.append(f'<rect x="50" y="{h + 100}" width="10" height="10" fill="#4477aa"/>'
                 f'<text x="64" y="{h + 109}">rloop/raw</text>'
                 f'<rect x="150" y="{h + 100}" width="10" height="10" fill="#ee6677"/>'
                 f'<text x="164" y="{h + 109}">rloop/loop</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> int:
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
