#!/usr/bin/env python3
"""Summarises a `make bench` run: medians and min-max per backing, profile and
target, the ratios rloop/raw, rloop/loop and loop/raw (of the medians, with the
min-max of the per-repetition ratios), a markdown table per backing and an SVG
chart of the ratios.

Usage: report.py RUN_DIR   (RUN_DIR/<backing>/<profile>.<target>.<rep>.json)
"""
import json
import statistics
import sys
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


def one_run(json_path: Path) -> dict:
    job = json.loads(json_path.read_text())["jobs"][0]
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
    # Runs from before the harness wrote .cpu files have no CPU figures.
    cpu = None
    cpu_file = json_path.with_suffix(".cpu")
    if cpu_file.exists() and ios:
        busy, _total, hz = (int(x) for x in cpu_file.read_text().split())
        cpu = busy * 1e6 / hz / ios
    return {
        "iops": (job["read"]["iops"] + job["write"]["iops"]),
        "bw_mib": bw / 2**20,
        "lat_us": max(lat_mean) if lat_mean else 0.0,
        "p99_us": max(p99) if p99 else 0.0,
        # System-wide busy CPU time over the job, per I/O.
        "cpu_us_per_io": cpu,
        "runtime_s": runtime_s,
        "rep": json_path.stem.rsplit(".", 1)[-1],
    }


def median_range(values: list) -> tuple:
    """(median, [min, max]) of the values that are there, or (None, None)."""
    vs = [v for v in values if v is not None]
    if not vs:
        return None, None
    return statistics.median(vs), [min(vs), max(vs)]


def summarise(run: Path) -> dict:
    summary = {}
    for bdir in sorted(p for p in run.iterdir() if p.is_dir() and (p / "env.txt").exists()):
        per = {}
        for prof, _ in PROFILES:
            per[prof] = {}
            by_rep = {}
            for t in TARGETS:
                runs = [one_run(p) for p in sorted(bdir.glob(f"{prof}.{t}.*.json"))]
                if not runs:
                    continue
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
        summary[bdir.name] = {"env": (bdir / "env.txt").read_text().splitlines(),
                              "profiles": per, "two_job_scaling": scaling}
    return summary


def fmt_ratio(v, rng=None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f}" + (f" ({rng[0]:.2f}–{rng[1]:.2f})" if rng else "")


def markdown(summary: dict) -> str:
    out = []
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


def main() -> None:
    run = Path(sys.argv[1])
    summary = summarise(run)
    (run / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (run / "bench.md").write_text(markdown(summary))
    (run / "bench.svg").write_text(svg(summary))


if __name__ == "__main__":
    main()
