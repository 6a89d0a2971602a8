#!/usr/bin/python3
"""backprop side by side with PyTorch and NumPy on Fashion-MNIST (docs/benchmarks.md).

Build first, then run with Debian's Python (the one with torch):

  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build --target e2e_bench
  /usr/bin/python3 bench/run.py --build build [--json out.json]
  /usr/bin/python3 bench/run.py --build build --quick      # CI: few samples, same code paths, < 60 s

Every workload runs --repeat times per engine and thread count (default 3; 1 in quick mode), the
repetitions interleaved across engines so that a busy spell on a shared machine falls on all of
them, and the table reports each one's fastest run: noise only ever adds time. The "spread"
column is slowest / fastest of those runs.

Every (engine, workload, thread count) runs in its own process; its peak RSS is the child's
ru_maxrss from os.wait4. Exit status: non-zero if any run crashed; in full mode also if the
1- vs 2-thread parameters of backprop differ or backprop's W1/W2 test accuracy is more than
1 percentage point from the best peer's. Quick mode asserts nothing about speed or accuracy.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"

QUICK_TRAIN_LIMIT = 512  # W1: 8 steps of 64, W2: 4 steps of 128
QUICK_INFER_LIMIT = 256  # W3: 256 single samples, then one batch of 256
ACCURACY_TOLERANCE = 0.01  # 1 percentage point


def run_child(cmd, env=None):
    """Runs cmd, returns (parsed JSON of the last stdout line or None, peak RSS MB, exit code, stderr)."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        out = p.stdout.read()
        p.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        p.returncode = code  # reaped here, so Popen must not wait again
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    result = None
    lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
    if code == 0 and lines:
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            result = None
    return result, usage.ru_maxrss / 1024.0, code, stderr


def cpuinfo_field(key):
    """The value of the first `key : value` line of /proc/cpuinfo ("" if there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine_info():
    return {"cpu": cpuinfo_field("model name"), "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


def openblas_candidates():
    """OPENBLAS_CORETYPE values worth trying on this CPU (None: OpenBLAS's own detection)."""
    flags = set(cpuinfo_field("flags").split())
    names = [None]
    if "avx2" in flags:
        names += ["Haswell"] + (["Zen"] if cpuinfo_field("vendor_id") == "AuthenticAMD" else [])
    if "avx512f" in flags:
        names.append("SkylakeX")
    if "avx512_bf16" in flags:
        names.append("Cooperlake")
    if "amx_bf16" in flags:
        names.append("SapphireRapids")
    return names


def choose_peer_blas(record):
    """Probes the peers' BLAS under each candidate OPENBLAS_CORETYPE (one thread, W2's forward
    product) and returns (environment overrides for the peers, summary dict, flag or None).
    The fastest correct kernel wins; OpenBLAS's own choice is kept unless another is 5% faster."""
    probe = [sys.executable, os.path.join(PEERS, "blas_probe.py")]
    user_core = os.environ.get("OPENBLAS_CORETYPE")
    tried = {}
    for name in openblas_candidates() if user_core is None else [None]:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        if name is not None:
            env["OPENBLAS_CORETYPE"] = name
        entry = record("peers", f"blas-probe {name or 'auto'}", 1, probe, env)
        result = entry["result"]
        if result is None:
            continue
        tried[name or "auto"] = result
        if result.get("openblas_core") is None:
            break  # not OpenBLAS: OPENBLAS_CORETYPE means nothing to it
    default = tried.get("auto")
    if default is None:
        return {}, {"tried": tried}, "the peers' BLAS probe failed: NumPy not importable?"
    summary = {"libraries": default["libraries"], "openblas_config": default.get("openblas_config"),
               "tried": {k: {"core": v.get("openblas_core"), "gflops_1_thread": v["gflops"],
                             "correct": v["correct"]} for k, v in tried.items()}}
    flag = None
    if default.get("openblas_core") is None and any(re.search(r"/blas/libblas", p) for p in default["libraries"]):
        flag = ("the peers run on the reference BLAS (" + ", ".join(default["libraries"]) +
                "), not OpenBLAS: install libopenblas0-pthread (scripts/install-deps.sh does)")
    correct = {k: v for k, v in tried.items() if v["correct"]}
    chosen = "auto"
    if correct:
        best = max(correct, key=lambda k: correct[k]["gflops"])
        base = correct.get("auto", {"gflops": 0.0})["gflops"]
        if best != "auto" and correct[best]["gflops"] > 1.05 * base:
            chosen = best
    summary["chosen"] = chosen
    summary["core"] = tried[chosen].get("openblas_core")
    summary["gflops_1_thread"] = tried[chosen]["gflops"]
    if not default["correct"] and chosen == "auto":
        flag = flag or "the peers' BLAS computes a wrong float32 product on this CPU"
    overrides = {} if chosen == "auto" else {"OPENBLAS_CORETYPE": chosen}
    return overrides, summary, flag


def describe_blas(summary):
    if not summary.get("libraries"):
        return "peers' BLAS: unknown (probe failed)"
    lib = os.path.basename(summary["libraries"][-1])
    text = f"peers' BLAS: {lib}"
    if summary.get("core"):
        how = ("OpenBLAS's own detection" if summary["chosen"] == "auto"
               else f"OPENBLAS_CORETYPE={summary['chosen']}")
        text += f", kernel {summary['core']} ({how}, {summary['gflops_1_thread']:.0f} GFLOP/s on 1 thread"
        others = [f"{k}: {v['core']} {v['gflops_1_thread']:.0f}{'' if v['correct'] else ' WRONG'}"
                  for k, v in summary["tried"].items() if k != summary["chosen"]]
        text += ("; tried " + ", ".join(others) if others else "") + ")"
    return text


def fmt(value, spec, missing="-"):
    if value is None:
        return missing
    return format(value, spec)


def markdown_table(rows, peak, bit_identical, accuracy, repeat, blas_text):
    """The run as Markdown lines: the peers' BLAS, the peak, the table, the accuracy check."""
    lines = [blas_text + ".", ""]
    if peak:
        lines.append(f"Measured FMA peak ({peak['isa']}): 1 thread {peak['gflops_1_thread']:.1f} GFLOP/s, "
                     f"2 threads {peak['gflops_2_threads']:.1f} GFLOP/s. "
                     f"Bit-identical 1 vs 2 threads: {'yes' if bit_identical else 'no'}.")
        lines.append("")
    lines.append(f"Each row is the fastest of {repeat} run(s), interleaved across engines; "
                 "spread = slowest / fastest.")
    lines.append("")
    lines.append("| workload | engine | seconds | samples/s | GFLOP/s | % of peak | peak RSS MB | test acc "
                 "| us/sample | backprop speed-up | spread |")
    lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        lines.append(f"| {r['workload']} | {r['engine']} | {r['seconds']:.3f} | {r['samples_per_second']:.0f} "
                     f"| {r['gflops']:.1f} | {fmt(r['percent_of_peak'], '.1f')} | {r['peak_rss_mb']:.0f} "
                     f"| {fmt(r['test_accuracy'], '.4f')} | {fmt(r['latency_us'], '.1f')} "
                     f"| {fmt(r['backprop_speedup'], '.2f')}x | {r['spread']:.2f} |")
    lines.append("")
    for workload, a in accuracy.items():
        peers = ", ".join(f"{k} {v:.4f}" for k, v in sorted(a["peers"].items()))
        lines.append(f"- {workload} test accuracy: backprop {a['backprop']:.4f}; {peers}; vs best peer "
                     f"{100 * a['difference']:+.2f} pp ({'within' if a['within_1pp'] else 'outside'} 1 pp)")
    return lines


RESULTS_MARKER = "<!-- suite runs: bench/run.py --results inserts new runs below this line -->"


def insert_results(path, table_lines, machine, command):
    """Inserts a dated section (machine, command, table) below RESULTS_MARKER in `path`, so the
    newest run comes first; the file is replaced atomically."""
    with open(path) as f:
        text = f.read()
    if RESULTS_MARKER not in text:
        raise SystemExit(f"{path}: no line {RESULTS_MARKER!r} to insert the run below; "
                         "restore it from bench/RESULTS.md in the repository")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = [f"## Suite run {when}", "",
               f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, Linux {machine['kernel']}. "
               f"Command: `{command}`.", ""] + table_lines
    text = text.replace(RESULTS_MARKER, RESULTS_MARKER + "\n\n" + "\n".join(section), 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory holding e2e_bench")
    ap.add_argument("--make", action="store_true", help="run `cmake --build BUILD --target e2e_bench` first")
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of the Fashion-MNIST IDX files")
    ap.add_argument("--quick", action="store_true", help="CI mode: a few hundred samples per engine, no assertions")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per engine, workload and thread count; the fastest is reported (default 3, quick 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", metavar="OUT", help="write every number to this JSON file")
    ap.add_argument("--markdown", metavar="OUT", help="write the table alone as Markdown")
    ap.add_argument("--results", metavar="FILE",
                    help="insert a dated section (machine, command, table) into FILE, e.g. bench/RESULTS.md")
    args = ap.parse_args()

    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    build = os.path.abspath(args.build)
    if args.make:
        subprocess.run(["cmake", "--build", build, "--target", "e2e_bench"], check=True)
    exe = os.path.join(build, "bench", "e2e", "e2e_bench")
    if not os.access(exe, os.X_OK):
        print(f"run.py: {exe} not found; build it first: cmake --build {args.build} --target e2e_bench",
              file=sys.stderr)
        return 2

    failures = []  # anything that makes the exit status non-zero
    flags = []  # findings that fail full mode only
    runs = []
    train_limit = QUICK_TRAIN_LIMIT if args.quick else 0
    infer_limit = QUICK_INFER_LIMIT if args.quick else 0

    def record(engine, workload, threads, cmd, env=None):
        print(f"  running {engine:8s} {workload} {threads} thread(s) ...", end="", flush=True)
        result, rss, code, stderr = run_child(cmd, env)
        entry = {"engine": engine, "workload": workload, "threads": threads, "exit_code": code,
                 "peak_rss_mb": rss, "result": result, "command": cmd}
        if result is None:
            tail = stderr.strip().splitlines()[-5:]
            entry["stderr_tail"] = tail
            failures.append(f"{engine} {workload} {threads} thread(s) failed (exit {code}): " + " | ".join(tail))
            print(f" FAILED (exit {code})")
            for line in tail:
                print("      " + line)
        else:
            print(f" {result['seconds']:.3f} s" if "seconds" in result else " ok")
        runs.append(entry)
        return entry

    print(f"backprop e2e suite ({'quick' if args.quick else 'full'} mode), {datetime.datetime.now():%Y-%m-%d %H:%M}")

    # 1. The machine's FMA peak, measured here.
    peak_entry = record("backprop", "fma-peak", 2, [exe, "--fma-peak", "--json"])
    peak = peak_entry["result"] or {}
    peak2 = peak.get("gflops_2_threads")
    if peak:
        print(f"FMA peak ({peak['isa']}): 1 thread {peak['gflops_1_thread']:.1f} GFLOP/s, "
              f"2 threads {peak['gflops_2_threads']:.1f} GFLOP/s")

    # 2. Determinism across thread counts.
    bit_cmd = [exe, "--bit-identical", "--json", "--data", args.data, "--epochs", str(args.epochs),
               "--seed", str(args.seed)]
    if train_limit:
        bit_cmd += ["--limit", str(train_limit)]
    bit_entry = record("backprop", "bit-identical", 2, bit_cmd)
    bit_identical = (bit_entry["result"] or {}).get("bit_identical")
    if bit_identical is not None:
        print(f"bit-identical 1 vs 2 threads: {'yes' if bit_identical else 'no'}")
        if not bit_identical:
            flags.append("backprop's W1 parameters differ between 1 and 2 threads")

    # 2b. The cost of the per-layer statistics (on by default in training): W1 epochs with them
    # off and on, alternating, in one process.
    stats_cmd = [exe, "--stats-overhead", "--json", "--data", args.data, "--seed", str(args.seed),
                 "--rounds", "2" if args.quick else "7"]
    if train_limit:
        stats_cmd += ["--limit", str(train_limit)]
    stats_entry = record("backprop", "stats-overhead", 2, stats_cmd)
    stats_overhead = stats_entry["result"] or {}
    if stats_overhead:
        print(f"layer statistics, W1 epoch (median of {stats_overhead['rounds']}): off "
              f"{stats_overhead['median_off']:.3f} s, on {stats_overhead['median_on']:.3f} s, "
              f"ratio {stats_overhead['ratio']:.4f} ({stats_overhead['overhead_percent']:+.2f}%); "
              f"the recorder alone {1e3 * stats_overhead['recorder_seconds_per_epoch']:.2f} ms, "
              f"{stats_overhead['recorder_percent_of_epoch']:.3f}% of an epoch")
        if not args.quick and stats_overhead["overhead_percent"] > 3.0:
            flags.append(f"layer statistics cost {stats_overhead['overhead_percent']:.1f}% of a W1 epoch (> 3%)")

    # Imported in a child, as the peer would be: a broken install fails here, not mid-table.
    torch_ok = subprocess.run([sys.executable, "-c", "import torch"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    if not torch_ok:
        print("peer skipped: torch not importable")
        if not args.quick:
            flags.append("torch not importable: no PyTorch comparison")

    # 3. The peers' BLAS: the fastest correct OpenBLAS kernel for this CPU (see blas_probe.py).
    blas_env, blas, blas_flag = choose_peer_blas(record)
    print(describe_blas(blas))
    if blas_flag:
        flags.append(blas_flag)

    # 4. The workloads, each engine and thread count in its own process, `repeat` rounds.
    results = {}  # (workload, engine, threads) -> [result of each run]
    engines = [("backprop", [exe])]
    if torch_ok:
        engines.append(("torch", [sys.executable, os.path.join(PEERS, "torch_mlp.py")]))
    engines.append(("numpy", [sys.executable, os.path.join(PEERS, "numpy_mlp.py")]))
    for workload in ("W1", "W2", "W3"):
        limit = infer_limit if workload == "W3" else train_limit
        common = ["--workload", workload, "--epochs", str(args.epochs), "--data", args.data,
                  "--seed", str(args.seed), "--json"]
        if limit:
            common += ["--limit", str(limit)]
        for round_ in range(repeat):
            if repeat > 1:
                print(f"{workload}, round {round_ + 1} of {repeat}")
            for engine, base in engines:
                for threads in (2, 1):
                    env = dict(os.environ)
                    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
                        env[var] = str(threads)
                    env["PYTHONPATH"] = PEERS + os.pathsep + env.get("PYTHONPATH", "")
                    if engine != "backprop":
                        env.update(blas_env)
                    entry = record(engine, workload, threads, base + common + ["--threads", str(threads)], env)
                    if entry["result"] is not None:
                        r = dict(entry["result"])
                        r["peak_rss_mb"] = entry["peak_rss_mb"]  # the child's, from wait4
                        results.setdefault((workload, engine, threads), []).append(r)

    def fastest(key, metric_seconds):
        """The run of `key` with the least `metric_seconds`, its peak RSS the largest of all its runs,
        and the spread (slowest / fastest); None if no run of it succeeded."""
        all_runs = results.get(key)
        if not all_runs:
            return None
        best = dict(min(all_runs, key=lambda r: r[metric_seconds]))
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in all_runs)
        best["runs"] = len(all_runs)
        best["spread"] = max(r[metric_seconds] for r in all_runs) / best[metric_seconds]
        return best

    # 5. The table: one row per (workload, engine); peers as best of 1 and 2 threads plus both.
    rows = []

    def add_rows(workload, label, metric_seconds, metric_sps, metric_gflops, latency=False):
        ref = fastest((workload, "backprop", 2), metric_seconds)
        ref_seconds = ref[metric_seconds] if ref else None
        for engine in ("backprop", "torch", "numpy"):
            cands = {t: fastest((workload, engine, t), metric_seconds) for t in (1, 2)}
            cands = {t: r for t, r in cands.items() if r is not None}
            if not cands:
                continue
            if engine == "backprop":
                variants = [("backprop 2 threads", cands.get(2)), ("backprop 1 thread", cands.get(1))]
            else:
                best_t = min(cands, key=lambda t: cands[t][metric_seconds])
                variants = [(f"{engine} best of 1,2 threads ({best_t})", cands[best_t])]
                variants += [(f"  {engine} {t} thread{'s' if t > 1 else ''}", cands[t]) for t in sorted(cands)]
            for name, r in variants:
                if r is None:
                    continue
                seconds = r[metric_seconds]
                row = {
                    "workload": label,
                    "engine": name.strip(),
                    "threads": r["threads"],
                    "seconds": seconds,
                    "samples_per_second": r[metric_sps],
                    "gflops": r[metric_gflops],
                    "percent_of_peak": 100.0 * r[metric_gflops] / peak2 if peak2 else None,
                    "peak_rss_mb": r["peak_rss_mb"],
                    "test_accuracy": r.get("test_accuracy"),
                    "latency_us": r.get("latency_us") if latency else None,
                    "backprop_speedup": seconds / ref_seconds if ref_seconds else None,
                    "runs": r["runs"],
                    "spread": r["spread"],
                    "display": name,
                }
                rows.append(row)

    add_rows("W1", "W1 train 784-128-10 sigmoid SGD b64", "seconds", "samples_per_second", "gflops")
    add_rows("W2", "W2 train 784-512-256-10 ReLU Adam b128", "seconds", "samples_per_second", "gflops")
    add_rows("W3", "W3 infer batch 1 (latency)", "batch1_seconds", "batch1_samples_per_second", "batch1_gflops",
             latency=True)
    n3 = (fastest(("W3", "backprop", 2), "seconds") or {}).get("batch", infer_limit or 10000)
    add_rows("W3", f"W3 infer batch {n3} (throughput)", "seconds", "samples_per_second", "gflops")

    header = (f"{'engine':34s} {'seconds':>9s} {'samples/s':>11s} {'GFLOP/s':>8s} {'% peak':>7s} "
              f"{'RSS MB':>7s} {'test acc':>8s} {'us/sample':>9s} {'bp speed-up':>11s} {'spread':>6s}")
    current = None
    print()
    if peak2:
        print(f"% peak is of the measured 2-thread FMA peak, {peak2:.1f} GFLOP/s; "
              f"bp speed-up = this row's time / backprop 2 threads' time")
    print(f"each row is the fastest of {repeat} run(s); spread = slowest / fastest")
    print(describe_blas(blas))
    for row in rows:
        if row["workload"] != current:
            current = row["workload"]
            print(f"\n{current}")
            print(header)
        print(f"{row['display']:34s} {row['seconds']:9.3f} {row['samples_per_second']:11.0f} {row['gflops']:8.1f} "
              f"{fmt(row['percent_of_peak'], '6.1f'):>6s}% {row['peak_rss_mb']:7.0f} "
              f"{fmt(row['test_accuracy'], '.4f'):>8s} {fmt(row['latency_us'], '.1f'):>9s} "
              f"{fmt(row['backprop_speedup'], '.2f'):>10s}x {row['spread']:6.2f}")

    # 6. Did the engines learn the same thing? backprop (2 threads) against the best peer run.
    accuracy = {}
    print()
    for workload in ("W1", "W2"):
        bp = fastest((workload, "backprop", 2), "seconds")
        peers = {f"{e} {t}t": fastest((w, e, t), "seconds")["test_accuracy"] for (w, e, t) in results
                 if w == workload and e != "backprop"}
        if bp is None or not peers:
            continue
        best_name = max(peers, key=peers.get)
        diff = bp["test_accuracy"] - peers[best_name]
        ok = abs(diff) <= ACCURACY_TOLERANCE
        accuracy[workload] = {"backprop": bp["test_accuracy"], "peers": peers, "best_peer": best_name,
                              "difference": diff, "within_1pp": ok}
        listing = ", ".join(f"{k} {v:.4f}" for k, v in sorted(peers.items()))
        verdict = "not checked in quick mode" if args.quick else ("ok" if ok else "DIFFERS by more than 1 pp")
        print(f"{workload} test accuracy: backprop {bp['test_accuracy']:.4f}; {listing}; "
              f"vs best peer ({best_name}) {100 * diff:+.2f} pp: {verdict}")
        if not ok and not args.quick:
            flags.append(f"{workload}: backprop test accuracy {bp['test_accuracy']:.4f} vs best peer "
                         f"{best_name} {peers[best_name]:.4f}")

    if args.quick:
        # The Python package beside its peers (bench/python_bench.py; run it alone for the full
        # comparison): quick mode checks that it runs and that its weights equal the CLI's.
        code = subprocess.run([sys.executable, os.path.join(HERE, "python_bench.py"), "--build",
                               args.build, "--quick"]).returncode
        if code != 0:
            failures.append(f"python_bench.py --quick exited with {code}")

    fail_flags = [] if args.quick else flags
    if args.json:
        out = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "machine": machine_info(),
            "epochs": args.epochs,
            "repeat": repeat,
            "seed": args.seed,
            "flop_formula": "training: 2 * samples * (3 * sum_l in_l*out_l - in_0*out_0); "
                            "inference: 2 * samples * sum_l in_l*out_l",
            "fma_peak": peak or None,
            "peer_blas": blas,
            "bit_identical_1_vs_2_threads": bit_identical,
            "layer_stats_overhead": stats_overhead or None,
            "accuracy_check": accuracy,
            "rows": [{k: v for k, v in r.items() if k != "display"} for r in rows],
            "runs": runs,
            "flags": flags,
            "failures": failures,
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"wrote {args.json}")
    table = markdown_table(rows, peak, bit_identical, accuracy, repeat, describe_blas(blas))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(table) + "\n")
        print(f"wrote {args.markdown}")
    if args.results:
        insert_results(args.results, table, machine_info(), "/usr/bin/python3 bench/run.py " + " ".join(sys.argv[1:]))
        print(f"added this run to {args.results}")
    for msg in failures:
        print(f"FAILED: {msg}")
    for msg in flags:
        print(f"{'FLAG' if not args.quick else 'note'}: {msg}")
    return 1 if failures or fail_flags else 0


if __name__ == "__main__":
    sys.exit(main())
