#!/usr/bin/env python3
"""Scrapes like a Prometheus for bench/exporter.sh.

  exporter.py latency URL RUNS [keepalive]
                                          median wall ms of RUNS /probe scrapes, and the median
                                          probe_icmp_duration_seconds{phase="rtt"} in µs; each on
                                          a new connection (urllib), or with keepalive on one kept
                                          open, as Prometheus' scraper keeps its connections
  exporter.py fleet BASE FIRST COUNT SECS ROUNDS PID
      every SECS seconds, COUNT /probe?target=FIRST+i scrapes spread evenly over
      the interval (as Prometheus spreads a job's targets), for ROUNDS rounds
      after one round of warm-up; prints the exporter's (PID) CPU share of one
      core over the measured rounds, its peak RSS (VmHWM) in MiB, and how many
      scrapes failed or came back without probe_success 1.
  exporter.py prometheus PROM EXPORTER COUNT SECS ROUNDS PID
      with a real Prometheus (at PROM) scraping COUNT targets through the
      exporter (at EXPORTER) every SECS seconds: waits until every target has
      been scraped and one more interval has passed, then measures ROUNDS
      intervals; prints the exporter's CPU share of one core, its peak RSS in
      MiB, the probes it ran in the window (its own netdx_exporter_probes
      counter) and how many of them failed, and how many targets Prometheus
      has with probe_success 1 at the end.
"""
import json
import http.client
import ipaddress
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request


def scrape(url, timeout=20):
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read().decode()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return None


def latency(url, runs, keepalive=False):
    walls, rtts = [], []
    parts = urllib.parse.urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    if keepalive:
        # Open it before the clock starts, as a scraper's is between scrapes.
        connection.request("GET", "/-/healthy")
        connection.getresponse().read()
    for _ in range(runs):
        start = time.perf_counter()
        if keepalive:
            connection.request("GET", path)
            answer = connection.getresponse()
            text = answer.read().decode()
            if answer.getheader("connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        else:
            text = scrape(url)
        walls.append((time.perf_counter() - start) * 1000)
        rtt = metric(text, 'probe_icmp_duration_seconds{phase="rtt"}')
        if rtt is not None:
            rtts.append(rtt * 1e6)
    print("%.3f %.1f" % (statistics.median(walls), statistics.median(rtts) if rtts else float("nan")))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / 100.0


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fleet(base, first, count, secs, rounds, pid):
    first = ipaddress.ip_address(first)
    failures = [0]
    lock = threading.Lock()

    def one(target):
        try:
            text = scrape(f"{base}&target={target}", timeout=secs)
            ok = metric(text, "probe_success") == 1.0
        except Exception:
            ok = False
        if not ok:
            with lock:
                failures[0] += 1

    def round_of_scrapes():
        start = time.monotonic()
        threads = []
        for i in range(count):
            due = start + secs * i / count
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=one, args=(first + i,))
            thread.start()
            threads.append(thread)
        end = start + secs
        for thread in threads:
            thread.join()
        if time.monotonic() < end:
            time.sleep(end - time.monotonic())

    round_of_scrapes()  # warm-up
    failures[0] = 0
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    for _ in range(rounds):
        round_of_scrapes()
    cpu = cpu_seconds(pid) - cpu_before
    wall = time.monotonic() - wall_before
    print("%.2f %.1f %d" % (cpu / wall * 100, peak_rss_mib(pid), failures[0]))


def probes_run(exporter):
    ok = failed = 0
    for line in scrape(exporter + "/metrics").splitlines():
        if line.startswith("netdx_exporter_probes{") or line.startswith("netdx_exporter_probes_total{"):
            value = float(line.rsplit(" ", 1)[1])
            if 'result="success"' in line:
                ok += value
            else:
                failed += value
    return ok, failed


def promql(prom, query):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    result = json.loads(scrape(url))["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def prometheus(prom, exporter, count, secs, rounds, pid):
    deadline = time.monotonic() + 6 * secs
    while time.monotonic() < deadline:
        try:
            if promql(prom, "count(up)") >= count:
                break
        except Exception:
            pass
        time.sleep(0.5)
    else:
        sys.exit("Prometheus never scraped all %d targets" % count)
    time.sleep(secs)  # warm-up: one whole interval with every target
    (ok0, failed0), cpu0, wall0 = probes_run(exporter), cpu_seconds(pid), time.monotonic()
    time.sleep(secs * rounds)
    (ok1, failed1), cpu1, wall1 = probes_run(exporter), cpu_seconds(pid), time.monotonic()
    hwm = peak_rss_mib(pid)
    good = promql(prom, "count(probe_success == 1)")
    print("%.2f %.1f %d %d %d" % ((cpu1 - cpu0) / (wall1 - wall0) * 100, hwm,
                                  ok1 - ok0 + failed1 - failed0, failed1 - failed0, good))


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], int(sys.argv[3]), sys.argv[4:] == ["keepalive"])
    elif sys.argv[1] == "prometheus":
        prometheus(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        fleet(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
